//! Module description files: both forms and both ways of writing fields, remote variables
//! round-tripping through their registers, decision matrix rows, and malformed files giving
//! errors (never panics).
#![cfg(not(target_arch = "wasm32"))] // proptest is native only

use proptest::prelude::*;
use vscp_core::mdf::{Access, DmRow, Mdf, MdfError, RemoteVar, VarType, VarValue, number};

const XML: &str = r#"<?xml version="1.0"?>
<vscp>
  <module>
    <name>demo &amp; test</name>
    <model>M1</model>
    <version>2</version>
    <description lang="se">Svensk</description>
    <description lang="en">English\nsecond line</description>
    <manufacturer><name>maker</name></manufacturer>
    <registers>
      <reg page="1" offset="0x10" access="r" min="0" max="0b1111">
        <name lang="en">Mode</name>
        <valuelist><item value="0x01" name="fast"/><item value="2"><name>slow</name></item></valuelist>
      </reg>
      <reg><page>0</page><offset>0o20</offset><name>Child form</name><access>w</access></reg>
      <reg page="0" offset="32" span="8" type="block"><name>Block</name></reg>
      <reg page="0" offset="40"><name>Bits</name>
        <bit pos="1" width="3" name="three"/><bit pos="7" name="top"/>
      </reg>
      <reg page="0" offset="41"><name>Embedded</name><remotevar type="uint8_t"/></reg>
    </registers>
    <remotevars>
      <remotevar name="speed" type="int16_t" page="0" offset="2" min="-100" max="100"/>
      <remotevar type="string" page="0" offset="8" size="4"><name>tag</name></remotevar>
    </remotevars>
    <abstractions>
      <abstraction name="old" type="uint32_t" page="0" offset="12"/>
    </abstractions>
    <dmatrix level="1" start-page="0" start-offset="0x50" rowcnt="4">
      <action code="1" name="On"><param name="what"><valuelist><item value="3" name="x"/></valuelist></param></action>
    </dmatrix>
  </module>
</vscp>"#;

#[test]
fn xml_with_attributes_and_child_elements() {
    let m = Mdf::parse(XML).expect("parses");
    assert_eq!(m.name, "demo & test");
    assert_eq!(m.description.as_deref(), Some("English\nsecond line"));
    assert_eq!(m.manufacturer.as_deref(), Some("maker"));
    assert_eq!(m.registers.len(), 5);
    let mode = m.register(1, 0x10).expect("mode");
    assert_eq!(
        (mode.name.as_str(), mode.access, mode.max),
        ("Mode", Access::Read, 15)
    );
    assert_eq!(
        mode.values
            .iter()
            .map(|v| (v.value, v.name.as_str()))
            .collect::<Vec<_>>(),
        vec![(1, "fast"), (2, "slow")]
    );
    let child = m.register(0, 16).expect("child form");
    assert_eq!(
        (child.name.as_str(), child.access),
        ("Child form", Access::Write)
    );
    assert_eq!(m.register(0, 39).map(|r| r.name.as_str()), Some("Block"));
    assert!(m.register(0, 48).is_none());
    let bits = &m.register(0, 40).unwrap().bits;
    assert_eq!(
        (
            bits[0].get(0b0000_1110),
            bits[0].set(0xFF, 0),
            bits[1].get(0x80)
        ),
        (7, 0xF1, 1)
    );
    let names: Vec<&str> = m.remote_vars.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, vec!["speed", "tag", "old", "Embedded"]);
    assert_eq!(m.remote_vars[3].offset, 41);
    let dm = m.dmatrix.as_ref().expect("dm");
    assert_eq!((dm.page, dm.offset, dm.rows, dm.row_size), (0, 0x50, 4, 8));
    assert_eq!(dm.actions[0].param.as_ref().map(|p| p.1.len()), Some(1));
}

#[test]
fn json_form_reads_the_same_model() {
    let json = r#"{"module": {"name": "j", "description": {"en": "desc"},
        "register": [{"page": "0x01", "offset": 16, "name": "Mode", "access": "r", "max": "0b1111",
                      "valuelist": [{"value": "0x01", "name": "fast"}]}],
        "remotevars": [{"name": "speed", "type": "int16_t", "page": 0, "offset": 2}],
        "dmatrix": {"level": 1, "start": {"page": 0, "offset": 80}, "rowcnt": 4,
                    "action": [{"code": 1, "name": "On"}]}}}"#;
    let m = Mdf::parse(json).expect("parses");
    assert_eq!(m.name, "j");
    assert_eq!(m.description.as_deref(), Some("desc"));
    let r = m.register(1, 16).expect("register");
    assert_eq!(
        (r.access, r.max, r.values[0].name.as_str()),
        (Access::Read, 15, "fast")
    );
    assert_eq!(
        m.remote_vars[0].kind,
        VarType::Int {
            bytes: 2,
            signed: true
        }
    );
    assert_eq!(
        m.dmatrix.map(|d| (d.offset, d.actions.len())),
        Some((80, 1))
    );
}

/// What an error must look like.
type Check = fn(&MdfError) -> bool;

#[test]
fn malformed_files_are_errors() {
    let cases: &[(&str, Check)] = &[
        ("", |e| matches!(e, MdfError::Xml(_))),
        ("<vscp><module>", |e| matches!(e, MdfError::Xml(_))),
        ("<vscp></module>", |e| matches!(e, MdfError::Xml(_))),
        ("<vscp><other/></vscp>", |e| *e == MdfError::NoModule),
        ("<a/><b/>", |e| matches!(e, MdfError::Xml(_))),
        ("{\"module\": ", |e| matches!(e, MdfError::Json(_))),
        ("{\"x\": 1}", |e| *e == MdfError::NoModule),
        (
            "<vscp><module><registers><reg page=\"zz\"/></registers></module></vscp>",
            |e| matches!(e, MdfError::Number { field: "page", .. }),
        ),
        (
            "<vscp><module><registers><reg offset=\"0x1FFFFFFFF\"/></registers></module></vscp>",
            |e| matches!(e, MdfError::Number { .. }),
        ),
        (
            "<!DOCTYPE x [<!ENTITY a \"aaaa\">]><vscp><module><name>&a;</name></module></vscp>",
            |e| matches!(e, MdfError::Xml(_)),
        ),
    ];
    for (text, ok) in cases {
        let e = Mdf::parse(text).expect_err(text);
        assert!(ok(&e), "{text}: {e:?}");
        assert!(!e.to_string().is_empty());
    }
    let deep = "<a>".repeat(100) + &"</a>".repeat(100);
    assert_eq!(Mdf::parse(&deep), Err(MdfError::TooDeep));
    let deep_json = "[".repeat(100) + &"]".repeat(100);
    assert!(Mdf::parse(&deep_json).is_err());
    let big = format!("<vscp><module>{}</module></vscp>", "<x/>".repeat(600_000));
    assert_eq!(Mdf::parse(&big), Err(MdfError::TooLarge));
}

#[test]
fn numbers_in_every_notation() {
    for (t, v) in [
        ("12", 12),
        ("0x0C", 12),
        ("0X0c", 12),
        ("0o14", 12),
        ("0b1100", 12),
        ("-3", -3),
        (" 7 ", 7),
    ] {
        assert_eq!(number(t), Some(v), "{t}");
    }
    for t in ["", "0x", "twelve", "1.5", "0b2"] {
        assert_eq!(number(t), None, "{t}");
    }
}

fn var(kind: &str, size: u16) -> RemoteVar {
    RemoteVar {
        kind: VarType::parse(kind),
        size,
        ..RemoteVar::default()
    }
}

#[test]
fn remote_variables_encode_and_decode() {
    let v = var("int16_t", 0);
    assert_eq!(v.encode("-2", &[]), Ok(vec![0xFF, 0xFE]));
    assert_eq!(v.decode(&[0xFF, 0xFE]), Some(VarValue::Int(-2)));
    assert!(v.encode("40000", &[]).is_err());
    let b = RemoteVar {
        bitpos: 3,
        ..var("bool", 0)
    };
    assert_eq!(b.encode("true", &[0x01]), Ok(vec![0x09]));
    assert_eq!(b.decode(&[0x08]), Some(VarValue::Bool(true)));
    assert!(b.encode("maybe", &[0]).is_err());
    let s = var("string", 4);
    assert_eq!(s.encode("ab", &[]), Ok(vec![b'a', b'b', 0, 0]));
    assert_eq!(s.decode(b"ab\0\0"), Some(VarValue::Text("ab".into())));
    assert!(s.encode("abcde", &[]).is_err());
    let f = var("float", 0);
    assert_eq!(
        f.decode(&f.encode("21.5", &[]).unwrap()),
        Some(VarValue::Float(21.5))
    );
    let limited = RemoteVar {
        min: Some(-10.0),
        max: Some(10.0),
        ..var("int8_t", 0)
    };
    assert!(limited.encode("11", &[]).unwrap_err().contains("maximum"));
    let blk = var("block", 3);
    assert_eq!(blk.encode("1, 0x02 ff", &[]), Ok(vec![1, 2, 0xFF]));
    assert_eq!(blk.decode(&[1, 2]), None, "too few registers");
}

proptest! {
    #[test]
    fn integers_round_trip(v in any::<i64>(), bytes in prop::sample::select(vec![1u8, 2, 4, 8]), signed in any::<bool>()) {
        let r = RemoteVar { kind: VarType::Int { bytes, signed }, ..RemoteVar::default() };
        if let Ok(regs) = r.encode(&v.to_string(), &[]) {
            prop_assert_eq!(regs.len(), usize::from(bytes));
            prop_assert_eq!(r.decode(&regs), Some(VarValue::Int(i128::from(v))));
        }
    }

    #[test]
    fn dm_rows_round_trip(b in any::<[u8; 8]>()) {
        let row = DmRow::decode(b);
        let mut back = row.encode();
        // bit 2 of the flags is reserved
        back[1] |= b[1] & 0x04;
        prop_assert_eq!(back, b);
    }

    #[test]
    fn any_text_parses_or_errs(text in "\\PC{0,300}") {
        let _ = Mdf::parse(&text);
    }

    #[test]
    fn damaged_files_parse_or_err(cut in 0usize..XML.len(), junk in "[<>&\"'/=a-z0-9 ]{0,8}") {
        let mut t = XML.as_bytes()[..cut].to_vec();
        t.extend_from_slice(junk.as_bytes());
        t.extend_from_slice(&XML.as_bytes()[cut..]);
        let _ = Mdf::parse(&String::from_utf8_lossy(&t));
    }
}

#[test]
fn firmware_lists_in_both_forms() {
    let xml = r#"<vscp><module><name>m</name><files>
        <picture name="p" url="x.png"/>
        <firmware name="Firmware A" target="pic18f2580" targetcode="0x02" path="https://e.com/fw/a_1_0_4.hex"
                  format="intelhex8" version_major="1" version_minor="0" version_subminor="4"/>
        </files></module></vscp>"#;
    let m = Mdf::parse(xml).unwrap();
    assert_eq!(m.firmware.len(), 1, "pictures are not firmware");
    let fw = &m.firmware[0];
    assert_eq!((fw.target_code, fw.version), (Some(2), Some((1, 0, 4))));
    assert_eq!(fw.file_name(), "a_1_0_4.hex");
    let json = r#"{"module": {"name": "m", "files": {"firmware": [
        {"name": "B", "targetcode": 7, "url": "https://e.com/b.hex", "version_major": 2, "version_minor": 1}
    ]}}}"#;
    let m = Mdf::parse(json).unwrap();
    assert_eq!(m.firmware[0].target_code, Some(7));
    assert_eq!(m.firmware[0].version, Some((2, 1, 0)));
}
