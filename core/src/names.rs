//! Class and type names and measurement units, as data tables.

/// A class: number, token (as in the VSCP spec) and its type tokens.
#[derive(Debug)]
pub struct ClassInfo {
    /// Class number.
    pub class: u16,
    /// Token, e.g. `CLASS1.INFORMATION`.
    pub name: &'static str,
    /// `(type, token)` pairs, e.g. `(3, "ON")`.
    pub types: &'static [(u16, &'static str)],
}

const PROTOCOL: &[(u16, &str)] = &[
    (0, "GENERAL"),
    (1, "SEGCTRL_HEARTBEAT"),
    (2, "NEW_NODE_ONLINE"),
    (3, "PROBE_ACK"),
    (6, "SET_NICKNAME"),
    (7, "NICKNAME_ACCEPTED"),
    (8, "DROP_NICKNAME"),
    (9, "READ_REGISTER"),
    (10, "RW_RESPONSE"),
    (11, "WRITE_REGISTER"),
    (12, "ENTER_BOOT_LOADER"),
    (13, "ACK_BOOT_LOADER"),
    (14, "NACK_BOOT_LOADER"),
    (15, "START_BLOCK"),
    (16, "BLOCK_DATA"),
    (17, "BLOCK_DATA_ACK"),
    (18, "BLOCK_DATA_NACK"),
    (19, "PROGRAM_BLOCK_DATA"),
    (20, "PROGRAM_BLOCK_DATA_ACK"),
    (21, "PROGRAM_BLOCK_DATA_NACK"),
    (22, "ACTIVATE_NEW_IMAGE"),
    (23, "RESET_DEVICE"),
    (24, "PAGE_READ"),
    (25, "PAGE_WRITE"),
    (26, "RW_PAGE_RESPONSE"),
    (27, "HIGH_END_SERVER_PROBE"),
    (28, "HIGH_END_SERVER_RESPONSE"),
    (29, "INCREMENT_REGISTER"),
    (30, "DECREMENT_REGISTER"),
    (31, "WHO_IS_THERE"),
    (32, "WHO_IS_THERE_RESPONSE"),
    (33, "GET_MATRIX_INFO"),
    (34, "GET_MATRIX_INFO_RESPONSE"),
    (35, "GET_EMBEDDED_MDF"),
    (36, "GET_EMBEDDED_MDF_RESPONSE"),
    (37, "EXTENDED_PAGE_READ"),
    (38, "EXTENDED_PAGE_WRITE"),
    (39, "EXTENDED_PAGE_RESPONSE"),
    (40, "GET_EVENT_INTEREST"),
    (41, "GET_EVENT_INTEREST_RESPONSE"),
];
const ALARM: &[(u16, &str)] = &[
    (0, "GENERAL"),
    (1, "WARNING"),
    (2, "ALARM"),
    (3, "SOUND"),
    (4, "LIGHT"),
    (5, "POWER"),
    (6, "EMERGENCY_STOP"),
    (7, "EMERGENCY_PAUSE"),
    (8, "EMERGENCY_RESET"),
    (9, "EMERGENCY_RESUME"),
    (10, "ARM"),
    (11, "DISARM"),
    (12, "WATCHDOG"),
    (13, "RESET"),
];
const SECURITY: &[(u16, &str)] = &[
    (0, "GENERAL"),
    (1, "MOTION"),
    (2, "GLASS_BREAK"),
    (3, "BEAM_BREAK"),
    (4, "SENSOR_TAMPER"),
    (5, "SHOCK_SENSOR"),
    (6, "SMOKE_SENSOR"),
    (7, "HEAT_SENSOR"),
    (8, "PANIC_SWITCH"),
    (9, "DOOR_CONTACT"),
    (10, "WINDOW_CONTACT"),
    (11, "CO_SENSOR"),
    (12, "FROST_DETECTED"),
    (13, "FLAME_DETECTED"),
    (14, "OXYGEN_LOW"),
    (15, "WEIGHT_DETECTED"),
    (16, "WATER_DETECTED"),
    (17, "CONDENSATION_DETECTED"),
    (18, "SOUND_DETECTED"),
    (19, "HARMFUL_SOUND_LEVEL"),
    (20, "TAMPER"),
];
/// CLASS1.MEASUREMENT types (the same numbers name the quantity in all measurement classes).
const MEASUREMENT: &[(u16, &str)] = &[
    (0, "GENERAL"),
    (1, "COUNT"),
    (2, "LENGTH"),
    (3, "MASS"),
    (4, "TIME"),
    (5, "ELECTRIC_CURRENT"),
    (6, "TEMPERATURE"),
    (7, "AMOUNT_OF_SUBSTANCE"),
    (8, "INTENSITY_OF_LIGHT"),
    (9, "FREQUENCY"),
    (10, "RADIOACTIVITY"),
    (11, "FORCE"),
    (12, "PRESSURE"),
    (13, "ENERGY"),
    (14, "POWER"),
    (15, "ELECTRICAL_CHARGE"),
    (16, "ELECTRICAL_POTENTIAL"),
    (17, "ELECTRICAL_CAPACITANCE"),
    (18, "ELECTRICAL_RESISTANCE"),
    (19, "ELECTRICAL_CONDUCTANCE"),
    (20, "MAGNETIC_FIELD_STRENGTH"),
    (21, "MAGNETIC_FLUX"),
    (22, "MAGNETIC_FLUX_DENSITY"),
    (23, "INDUCTANCE"),
    (24, "FLUX_OF_LIGHT"),
    (25, "ILLUMINANCE"),
    (26, "RADIATION_DOSE_ABSORBED"),
    (27, "CATALYTIC_ACITIVITY"),
    (28, "VOLUME"),
    (29, "SOUND_INTENSITY"),
    (30, "ANGLE"),
    (31, "POSITION"),
    (32, "SPEED"),
    (33, "ACCELERATION"),
    (34, "TENSION"),
    (35, "HUMIDITY"),
    (36, "FLOW"),
    (37, "THERMAL_RESISTANCE"),
    (38, "REFRACTIVE_POWER"),
    (39, "DYNAMIC_VISCOSITY"),
    (40, "SOUND_IMPEDANCE"),
    (41, "SOUND_RESISTANCE"),
    (42, "ELECTRIC_ELASTANCE"),
    (43, "LUMINOUS_ENERGY"),
    (44, "LUMINANCE"),
    (45, "CHEMICAL_CONCENTRATION_MOLAR"),
    (46, "CHEMICAL_CONCENTRATION_MASS"),
    (48, "DEWPOINT"),
    (49, "RELATIVE_LEVEL"),
    (50, "ALTITUDE"),
    (51, "AREA"),
    (52, "RADIANT_INTENSITY"),
    (53, "RADIANCE"),
    (54, "IRRADIANCE"),
    (55, "SPECTRAL_RADIANCE"),
    (56, "SPECTRAL_IRRADIANCE"),
    (57, "SOUND_PRESSURE"),
    (58, "SOUND_DENSITY"),
    (59, "SOUND_LEVEL"),
    (60, "RADIATION_DOSE_EQ"),
    (61, "RADIATION_DOSE_EXPOSURE"),
    (62, "POWER_FACTOR"),
    (63, "REACTIVE_POWER"),
    (64, "REACTIVE_ENERGY"),
];
const INFORMATION: &[(u16, &str)] = &[
    (0, "GENERAL"),
    (1, "BUTTON"),
    (2, "MOUSE"),
    (3, "ON"),
    (4, "OFF"),
    (5, "ALIVE"),
    (6, "TERMINATING"),
    (7, "OPENED"),
    (8, "CLOSED"),
    (9, "NODE_HEARTBEAT"),
    (10, "BELOW_LIMIT"),
    (11, "ABOVE_LIMIT"),
    (12, "PULSE"),
    (13, "ERROR"),
    (14, "RESUMED"),
    (15, "PAUSED"),
    (16, "SLEEP"),
    (17, "GOOD_MORNING"),
    (18, "GOOD_DAY"),
    (19, "GOOD_AFTERNOON"),
    (20, "GOOD_EVENING"),
    (21, "GOOD_NIGHT"),
    (22, "SEE_YOU_SOON"),
    (23, "GOODBYE"),
    (24, "STOP"),
    (25, "START"),
    (26, "RESET_COMPLETED"),
    (27, "INTERRUPTED"),
    (28, "PREPARING_TO_SLEEP"),
    (29, "WOKEN_UP"),
    (30, "DUSK"),
    (31, "DAWN"),
    (32, "ACTIVE"),
    (33, "INACTIVE"),
    (34, "BUSY"),
    (35, "IDLE"),
    (36, "STREAM_DATA"),
    (37, "TOKEN_ACTIVITY"),
    (38, "STREAM_DATA_WITH_ZONE"),
    (39, "CONFIRM"),
    (40, "LEVEL_CHANGED"),
    (41, "WARNING"),
    (42, "STATE"),
    (43, "ACTION_TRIGGER"),
    (44, "SUNRISE"),
    (45, "SUNSET"),
    (46, "START_OF_RECORD"),
    (47, "END_OF_RECORD"),
    (48, "PRESET_ACTIVE"),
    (49, "DETECT"),
    (50, "OVERFLOW"),
    (51, "BIG_LEVEL_CHANGED"),
];
const CONTROL: &[(u16, &str)] = &[
    (0, "GENERAL"),
    (1, "MUTE"),
    (2, "ALL_LAMPS"),
    (3, "OPEN"),
    (4, "CLOSE"),
    (5, "TURNON"),
    (6, "TURNOFF"),
    (7, "START"),
    (8, "STOP"),
    (9, "RESET"),
    (10, "INTERRUPT"),
    (11, "SLEEP"),
    (12, "WAKEUP"),
    (13, "RESUME"),
    (14, "PAUSE"),
    (15, "ACTIVATE"),
    (16, "DEACTIVATE"),
    (20, "DIM_LAMPS"),
    (21, "CHANGE_CHANNEL"),
    (22, "CHANGE_LEVEL"),
    (23, "RELATIVE_CHANGE_LEVEL"),
    (24, "MEASUREMENT_REQUEST"),
    (25, "STREAM_DATA"),
    (26, "SYNC"),
    (27, "ZONED_STREAM_DATA"),
    (28, "SET_PRESET"),
    (29, "TOGGLE_STATE"),
    (30, "TIMED_PULSE_ON"),
    (31, "TIMED_PULSE_OFF"),
    (32, "SET_COUNTRY_LANGUAGE"),
    (33, "BIG_CHANGE_LEVEL"),
    (34, "SHUTTER_UP"),
    (35, "SHUTTER_DOWN"),
    (36, "SHUTTER_LEFT"),
    (37, "SHUTTER_RIGHT"),
    (38, "SHUTTER_MIDDLE"),
    (39, "SHUTTER_PRESET"),
];
const CLASS2_PROTOCOL: &[(u16, &str)] = &[
    (0, "GENERAL"),
    (1, "READ_REGISTER"),
    (2, "WRITE_REGISTER"),
    (3, "READ_WRITE_RESPONSE"),
    (20, "HIGH_END_SERVER_CAPS"),
    (32, "WHO_IS_THERE_RESPONSE"),
    (43, "READ_REGISTER_DIRECT"),
    (44, "WRITE_REGISTER_DIRECT"),
];
const CLASS2_INFORMATION: &[(u16, &str)] = &[
    (0, "GENERAL"),
    (1, "TOKEN_ACTIVITY"),
    (2, "HEARTBEAT"),
    (3, "PROXY_HEARTBEAT"),
];
const NONE: &[(u16, &str)] = &[(0, "GENERAL")];

/// Every known class, by number.
pub static CLASSES: &[ClassInfo] = &[
    ClassInfo {
        class: 0,
        name: "CLASS1.PROTOCOL",
        types: PROTOCOL,
    },
    ClassInfo {
        class: 1,
        name: "CLASS1.ALARM",
        types: ALARM,
    },
    ClassInfo {
        class: 2,
        name: "CLASS1.SECURITY",
        types: SECURITY,
    },
    ClassInfo {
        class: 10,
        name: "CLASS1.MEASUREMENT",
        types: MEASUREMENT,
    },
    ClassInfo {
        class: 11,
        name: "CLASS1.MEASUREMENTX1",
        types: NONE,
    },
    ClassInfo {
        class: 12,
        name: "CLASS1.MEASUREMENTX2",
        types: NONE,
    },
    ClassInfo {
        class: 13,
        name: "CLASS1.MEASUREMENTX3",
        types: NONE,
    },
    ClassInfo {
        class: 14,
        name: "CLASS1.MEASUREMENTX4",
        types: NONE,
    },
    ClassInfo {
        class: 15,
        name: "CLASS1.DATA",
        types: MEASUREMENT,
    },
    ClassInfo {
        class: 20,
        name: "CLASS1.INFORMATION",
        types: INFORMATION,
    },
    ClassInfo {
        class: 30,
        name: "CLASS1.CONTROL",
        types: CONTROL,
    },
    ClassInfo {
        class: 40,
        name: "CLASS1.MULTIMEDIA",
        types: NONE,
    },
    ClassInfo {
        class: 50,
        name: "CLASS1.AOL",
        types: NONE,
    },
    ClassInfo {
        class: 60,
        name: "CLASS1.MEASUREMENT64",
        types: MEASUREMENT,
    },
    ClassInfo {
        class: 65,
        name: "CLASS1.MEASUREZONE",
        types: MEASUREMENT,
    },
    ClassInfo {
        class: 70,
        name: "CLASS1.MEASUREMENT32",
        types: MEASUREMENT,
    },
    ClassInfo {
        class: 85,
        name: "CLASS1.SETVALUEZONE",
        types: MEASUREMENT,
    },
    ClassInfo {
        class: 90,
        name: "CLASS1.WEATHER",
        types: NONE,
    },
    ClassInfo {
        class: 95,
        name: "CLASS1.WEATHER_FORECAST",
        types: NONE,
    },
    ClassInfo {
        class: 100,
        name: "CLASS1.PHONE",
        types: NONE,
    },
    ClassInfo {
        class: 102,
        name: "CLASS1.DISPLAY",
        types: NONE,
    },
    ClassInfo {
        class: 110,
        name: "CLASS1.IR",
        types: NONE,
    },
    ClassInfo {
        class: 206,
        name: "CLASS1.GNSS",
        types: NONE,
    },
    ClassInfo {
        class: 212,
        name: "CLASS1.WIRELESS",
        types: NONE,
    },
    ClassInfo {
        class: 506,
        name: "CLASS1.DIAGNOSTIC",
        types: NONE,
    },
    ClassInfo {
        class: 508,
        name: "CLASS1.ERROR",
        types: NONE,
    },
    ClassInfo {
        class: 509,
        name: "CLASS1.LOG",
        types: NONE,
    },
    ClassInfo {
        class: 510,
        name: "CLASS1.LABORATORY",
        types: NONE,
    },
    ClassInfo {
        class: 511,
        name: "CLASS1.LOCAL",
        types: NONE,
    },
    ClassInfo {
        class: 1024,
        name: "CLASS2.PROTOCOL",
        types: CLASS2_PROTOCOL,
    },
    ClassInfo {
        class: 1025,
        name: "CLASS2.CUSTOM",
        types: NONE,
    },
    ClassInfo {
        class: 1026,
        name: "CLASS2.INFORMATION",
        types: CLASS2_INFORMATION,
    },
    ClassInfo {
        class: 1040,
        name: "CLASS2.MEASUREMENT_STR",
        types: MEASUREMENT,
    },
    ClassInfo {
        class: 1060,
        name: "CLASS2.MEASUREMENT_FLOAT",
        types: MEASUREMENT,
    },
    ClassInfo {
        class: 65535,
        name: "VSCP.DAEMON",
        types: NONE,
    },
];

/// The class table entry; classes 512–1023 resolve to their Level I class.
#[must_use]
pub fn class(class: u16) -> Option<&'static ClassInfo> {
    let c = if (512..1024).contains(&class) {
        class - 512
    } else {
        class
    };
    CLASSES.iter().find(|i| i.class == c)
}

/// The class token, e.g. `CLASS1.INFORMATION` (`CLASS2.LEVEL1.INFORMATION` for 532).
#[must_use]
pub fn class_name(class_no: u16) -> Option<String> {
    let info = class(class_no)?;
    Some(if (512..1024).contains(&class_no) {
        info.name.replacen("CLASS1.", "CLASS2.LEVEL1.", 1)
    } else {
        info.name.to_string()
    })
}

/// The type token within a class, e.g. `ON` for (20, 3).
#[must_use]
pub fn type_name(class_no: u16, kind: u16) -> Option<&'static str> {
    class(class_no)?
        .types
        .iter()
        .find(|(t, _)| *t == kind)
        .map(|(_, n)| *n)
}

fn normalize(s: &str) -> String {
    s.trim().to_ascii_uppercase().replace([' ', '-'], "_")
}

/// Looks up a class by token (`CLASS1.INFORMATION`, `information`, or a number).
#[must_use]
pub fn class_by_name(name: &str) -> Option<u16> {
    if let Ok(n) = name.trim().parse() {
        return Some(n);
    }
    let want = normalize(name);
    CLASSES.iter().find_map(|c| {
        let short = c.name.split_once('.').map_or(c.name, |(_, s)| s);
        (c.name == want || short == want).then_some(c.class)
    })
}

/// Looks up a type by token within a class (`TURNON`, `VSCP_TYPE_CONTROL_TURNON`, or a number).
#[must_use]
pub fn type_by_name(class_no: u16, name: &str) -> Option<u16> {
    if let Ok(n) = name.trim().parse() {
        return Some(n);
    }
    let want = normalize(name);
    let info = class(class_no)?;
    let short = info.name.split_once('.').map_or(info.name, |(_, s)| s);
    let want = want.strip_prefix("VSCP_TYPE_").unwrap_or(&want);
    let prefixed = want.strip_prefix(short).and_then(|w| w.strip_prefix('_'));
    let find = |w: &str| info.types.iter().find_map(|(t, n)| (*n == w).then_some(*t));
    find(want).or_else(|| prefixed.and_then(find))
}

/// Every (class, type) whose type token is `name` (`ON`, `TEMPERATURE`, `VSCP_TYPE_…`),
/// in class order: a type named without its class may be in several.
#[must_use]
pub fn types_named(name: &str) -> Vec<(u16, u16)> {
    if name.trim().parse::<u16>().is_ok() {
        return Vec::new();
    }
    CLASSES
        .iter()
        .filter_map(|c| type_by_name(c.class, name).map(|t| (c.class, t)))
        .collect()
}

/// Unit symbols of a measured quantity (CLASS1.MEASUREMENT type), by unit index.
fn units(quantity: u16) -> &'static [&'static str] {
    match quantity {
        1 => &[""],
        2 => &["m", "mm", "cm", "in"],
        3 => &["kg", "g", "lb"],
        4 => &["s", "ms", "µs", "ns"],
        5 => &["A", "mA"],
        6 | 48 => &["K", "°C", "°F"],
        7 => &["mol"],
        8 => &["cd"],
        9 => &["Hz", "THz", "GHz", "MHz"],
        10 => &["Bq", "Ci"],
        11 => &["N"],
        12 => &["Pa", "bar", "psi"],
        13 => &["J", "kWh", "Wh", "cal"],
        14 => &["W", "kW", "hp"],
        15 => &["C"],
        16 => &["V"],
        17 => &["F"],
        18 => &["Ω"],
        19 => &["S"],
        20 => &["A/m"],
        21 => &["Wb"],
        22 => &["T"],
        23 => &["H"],
        24 => &["lm"],
        25 => &["lx"],
        26 => &["Gy"],
        27 => &["kat"],
        28 => &["m³", "l", "dm³"],
        29 => &["W/m²"],
        30 => &["rad", "°", "′", "″"],
        32 => &["m/s", "km/h", "mph"],
        33 => &["m/s²"],
        34 => &["N/m"],
        35 => &["%"],
        36 => &["m³/s", "l/s"],
        49 => &["dB"],
        50 => &["m", "cm", "ft"],
        51 => &["m²"],
        59 => &["dB"],
        62 => &[""],
        63 => &["var"],
        64 => &["varh"],
        _ => &[],
    }
}

/// The unit symbol of a measured quantity, e.g. `°C` for (6, 1).
#[must_use]
pub fn unit(quantity: u16, unit: u8) -> Option<&'static str> {
    units(quantity).get(usize::from(unit)).copied()
}

#[cfg(test)]
mod tests {
    use super::*;
    #[cfg(target_arch = "wasm32")]
    use wasm_bindgen_test::wasm_bindgen_test as test;

    #[test]
    fn types_found_by_name_alone() {
        assert_eq!(types_named("node_heartbeat"), [(20, 9)]);
        assert!(types_named("TEMPERATURE").contains(&(10, 6)));
        assert!(types_named("no such type").is_empty());
        assert!(types_named("3").is_empty(), "a number is not a name");
    }

    #[test]
    fn lookups_both_ways() {
        assert_eq!(class_name(20).as_deref(), Some("CLASS1.INFORMATION"));
        assert_eq!(
            class_name(532).as_deref(),
            Some("CLASS2.LEVEL1.INFORMATION")
        );
        assert_eq!(type_name(30, 5), Some("TURNON"));
        assert_eq!(class_by_name("control"), Some(30));
        assert_eq!(class_by_name("CLASS1.MEASUREMENT"), Some(10));
        assert_eq!(type_by_name(30, "VSCP_TYPE_CONTROL_TURNON"), Some(5));
        assert_eq!(type_by_name(20, "node heartbeat"), Some(9));
        assert_eq!(unit(6, 1), Some("°C"));
        assert_eq!(type_name(20, 999), None);
        for c in CLASSES {
            for (t, n) in c.types {
                assert_eq!(type_by_name(c.class, n), Some(*t), "{} {n}", c.name);
            }
        }
    }
}
