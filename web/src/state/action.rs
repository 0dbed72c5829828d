//! What goes into the console (actions) and what it asks of its websocket (effects).

use vscp_core::{Event, Filter, Guid, ReceiveMode};

use super::{ConnSettings, KnownNode, RegisterAction, SeriesKey};

/// What the console asks its websocket to do, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Effect {
    /// Open a websocket to this URL (closing any open one first).
    Open(String),
    /// Open a websocket to an MQTT broker (subprotocol `mqtt`, binary messages).
    OpenMqtt(String),
    /// Send one message: one or more lines separated by `\n`.
    Send(String),
    /// Send one binary message (MQTT packets).
    SendBinary(Vec<u8>),
    /// Close the websocket.
    Close,
}

/// Why a command was sent (so its reply goes to the right place).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Purpose {
    Console,
    Server,
    SendEvent,
    ServerFilter,
    /// Register reads/writes and scans: SENDs of protocol events.
    Node,
}

/// Input to the reducer.
#[derive(Clone, Debug)]
pub enum Action {
    /// Connect with these settings.
    Connect(ConnSettings),
    /// The websocket opened.
    Opened,
    /// A websocket text message (one or more lines).
    Message(String),
    /// A binary websocket message (from an MQTT broker).
    Bytes(Vec<u8>),
    /// Send to this server of the bridges (a broker connection's command topic).
    Site(String),
    /// Something the user must see (the console caps the list).
    Notice(String),
    /// The websocket closed with this code and reason.
    Closed(u16, String),
    /// User pressed disconnect.
    Disconnect,
    /// Periodic tick (timeouts, reconnect, counters).
    Tick,
    /// A raw command line from the command console.
    Command(String),
    /// Send this event.
    SendEvent(Event),
    /// Apply a server-side filter (SFLT + SMSK).
    ServerFilter(Filter),
    /// Refresh the server panel.
    RefreshServer,
    /// Switch streaming/polling.
    ReceiveMode(ReceiveMode),
    /// Pause or resume the log.
    TogglePause,
    /// Clear the log.
    Clear,
    /// Replace the log with the rows of a saved CSV or JSON log (offline view).
    Import(String),
    /// Dismiss a notice (`None`: all).
    Dismiss(Option<u64>),
    /// Identify nodes without a name by reading their standard registers (paced), or stop.
    IdentifyNew(bool),
    /// Name a node (an empty name forgets it).
    NameNode(Guid, String),
    /// The known nodes kept in the browser (at start).
    KnownNodes(Vec<KnownNode>),
    /// Known nodes from an exported JSON file, added to (and renaming) those known.
    ImportNodes(String),
    /// Ask who is there at nicknames `from..=to` behind an interface.
    Scan {
        /// Interface GUID.
        interface: Guid,
        /// First nickname.
        from: u8,
        /// Last nickname.
        to: u8,
    },
    /// Stop the scan.
    CancelScan,
    /// Open the register editor of a node and read its standard registers.
    OpenRegisters(Guid),
    /// Close the register editor.
    CloseRegisters,
    /// Something for the open register editor.
    Registers(RegisterAction),
    /// Something for the firmware wizard.
    Firmware(super::FirmwareAction),
    /// Send an event every `every_ms` ms, `times` times in all (the first now).
    Repeat {
        /// The event.
        event: Event,
        /// Period, ms.
        every_ms: u64,
        /// Sends in all.
        times: u32,
    },
    /// Stop a repeat (by its id).
    StopRepeat(u64),
    /// Chart a measurement stream, or stop charting it.
    ToggleSeries(SeriesKey),
    /// Pause or resume the charts.
    PauseCharts,
    /// Drop the charted points.
    ClearCharts,
}
