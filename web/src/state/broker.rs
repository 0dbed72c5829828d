//! The console's MQTT 3.1.1 client session for a broker's websocket listener, sans-io like
//! vscp-core's sessions: bytes and time in, packets and outputs out. The `mqttbytes` crate
//! encodes and decodes the packets; this module holds the session: CONNECT with the login,
//! SUBSCRIBE to the topic filters at QoS 1, keep-alive pings, QoS 1 in both directions
//! (received publishes acknowledged, own publishes tracked until their PUBACK).

use std::collections::VecDeque;

use bytes::BytesMut;
use mqttbytes::{
    Error as Mqtt, QoS,
    v4::{
        ConnAck, Connect, ConnectReturnCode, Disconnect, Packet, PingReq, PubAck, Publish, SubAck,
        Subscribe, SubscribeReasonCode,
    },
};
use vscp_core::Millis;

/// Largest packet taken from the broker (an event's JSON form is well under 4 KiB).
pub const MAX_PACKET: usize = 64 * 1024;
/// Keep-alive asked of the broker, s.
const KEEP_ALIVE_S: u16 = 30;
/// Time a publish of ours gets for its PUBACK, ms.
const PUBACK_TIMEOUT_MS: u64 = 10_000;
/// Own publishes waiting for their PUBACK, at most.
const IN_FLIGHT: usize = 256;

/// How to log in and what to subscribe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BrokerConfig {
    /// MQTT client id.
    pub client_id: String,
    /// User and password, if the broker wants them.
    pub login: Option<(String, String)>,
    /// Topic filters subscribed at QoS 1.
    pub filters: Vec<String>,
}

/// Where the session is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BrokerState {
    /// CONNECT sent, waiting for CONNACK.
    Connecting,
    /// SUBSCRIBE sent.
    Subscribing,
    /// Subscribed: publishes flow.
    Ready,
    /// Ended (see the [`BrokerOutput::Closed`] that said why).
    Closed,
}

/// What the session asks of its driver or tells it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BrokerOutput {
    /// Send these bytes as one binary websocket message.
    Transmit(Vec<u8>),
    /// The state changed.
    State(BrokerState),
    /// The broker refused these filters.
    Refused(Vec<String>),
    /// A publish on a subscribed topic.
    Message {
        /// Its topic.
        topic: String,
        /// Its payload.
        payload: Vec<u8>,
    },
    /// An own publish was acknowledged.
    Published(u16),
    /// An own publish got no PUBACK in time.
    Unacknowledged(u16),
    /// The session ended; `permanent` when trying again cannot help (login refused).
    Closed {
        /// Why, in words.
        reason: String,
        /// Do not reconnect.
        permanent: bool,
    },
}

/// Why a publish was not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PublishError {
    /// Not subscribed yet, or closed.
    NotReady,
    /// Too many publishes wait for their PUBACK.
    Busy,
    /// The topic or payload cannot be encoded.
    Encode(String),
}

impl std::fmt::Display for PublishError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PublishError::NotReady => f.write_str("the broker connection is not ready"),
            PublishError::Busy => write!(f, "{IN_FLIGHT} publishes wait for the broker"),
            PublishError::Encode(e) => write!(f, "cannot publish: {e}"),
        }
    }
}

/// One MQTT session over one websocket.
#[derive(Clone, Debug)]
pub struct BrokerSession {
    config: BrokerConfig,
    state: BrokerState,
    input: BytesMut,
    out: VecDeque<BrokerOutput>,
    next_pkid: u16,
    subscribe_pkid: u16,
    /// Own publishes waiting for PUBACK, with their time of sending.
    in_flight: VecDeque<(u16, Millis)>,
    last_sent: Millis,
    ping_sent: Option<Millis>,
}

impl BrokerSession {
    /// A session on a websocket that just opened: CONNECT is the first output.
    #[must_use]
    pub fn new(config: BrokerConfig, now: Millis) -> BrokerSession {
        let mut s = BrokerSession {
            config,
            state: BrokerState::Connecting,
            input: BytesMut::new(),
            out: VecDeque::new(),
            next_pkid: 1,
            subscribe_pkid: 0,
            in_flight: VecDeque::new(),
            last_sent: now,
            ping_sent: None,
        };
        let mut connect = Connect::new(s.config.client_id.clone());
        connect.keep_alive = KEEP_ALIVE_S;
        if let Some((user, password)) = &s.config.login {
            connect.set_login(user.clone(), password.clone());
        }
        s.transmit(|b| connect.write(b), now);
        s
    }

    /// Where the session is.
    #[cfg(test)]
    #[must_use]
    pub fn state(&self) -> BrokerState {
        self.state
    }

    /// Bytes of a websocket message from the broker.
    pub fn handle_bytes(&mut self, bytes: &[u8], now: Millis) {
        // taken a packet's size at a time, so the buffer never holds more than one packet
        for chunk in bytes.chunks(MAX_PACKET) {
            if self.state == BrokerState::Closed {
                return;
            }
            self.input.extend_from_slice(chunk);
            loop {
                match mqttbytes::v4::read(&mut self.input, MAX_PACKET) {
                    Ok(packet) => self.packet(packet, now),
                    Err(Mqtt::InsufficientBytes(_)) => break,
                    Err(e) => {
                        self.close(format!("broker sent a malformed packet ({e:?})"), false);
                        return;
                    }
                }
                if self.state == BrokerState::Closed {
                    return;
                }
            }
        }
    }

    /// Pings when the link has been quiet, gives up when pings or publishes go unanswered.
    pub fn handle_timeout(&mut self, now: Millis) {
        if self.state == BrokerState::Closed {
            return;
        }
        let keep_alive = u64::from(KEEP_ALIVE_S) * 1_000;
        if let Some(sent) = self.ping_sent {
            if now.0 >= sent.0 + keep_alive {
                self.close("the broker stopped answering pings".into(), false);
                return;
            }
        } else if now.0 >= self.last_sent.0 + keep_alive / 2 {
            self.ping_sent = Some(now);
            self.transmit(|b| PingReq.write(b), now);
        }
        while let Some(&(pkid, at)) = self.in_flight.front() {
            if now.0 < at.0 + PUBACK_TIMEOUT_MS {
                break;
            }
            self.in_flight.pop_front();
            self.out.push_back(BrokerOutput::Unacknowledged(pkid));
        }
    }

    /// When [`handle_timeout`](Self::handle_timeout) wants to run next.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Millis> {
        if self.state == BrokerState::Closed {
            return None;
        }
        let keep_alive = u64::from(KEEP_ALIVE_S) * 1_000;
        let ping = match self.ping_sent {
            Some(sent) => sent.plus(keep_alive),
            None => self.last_sent.plus(keep_alive / 2),
        };
        let puback = self
            .in_flight
            .front()
            .map(|(_, at)| at.plus(PUBACK_TIMEOUT_MS));
        Some(puback.map_or(ping, |p| p.min(ping)))
    }

    /// Publishes `payload` to `topic` at QoS 1; returns its packet id.
    pub fn publish(
        &mut self,
        topic: &str,
        payload: Vec<u8>,
        now: Millis,
    ) -> Result<u16, PublishError> {
        if self.state != BrokerState::Ready {
            return Err(PublishError::NotReady);
        }
        if self.in_flight.len() >= IN_FLIGHT {
            return Err(PublishError::Busy);
        }
        let mut publish = Publish::new(topic, QoS::AtLeastOnce, payload);
        publish.pkid = self.pkid();
        let mut buf = BytesMut::new();
        publish
            .write(&mut buf)
            .map_err(|e| PublishError::Encode(format!("{e:?}")))?;
        self.in_flight.push_back((publish.pkid, now));
        self.send_bytes(buf.to_vec(), now);
        Ok(publish.pkid)
    }

    /// Says goodbye (DISCONNECT); the session is closed afterwards.
    pub fn disconnect(&mut self, now: Millis) {
        if self.state != BrokerState::Closed {
            self.transmit(|b| Disconnect.write(b), now);
            self.state = BrokerState::Closed;
        }
    }

    /// The next output, in order.
    pub fn poll_output(&mut self) -> Option<BrokerOutput> {
        self.out.pop_front()
    }

    fn packet(&mut self, packet: Packet, now: Millis) {
        match (self.state, packet) {
            (BrokerState::Connecting, Packet::ConnAck(ConnAck { code, .. })) => {
                if code != ConnectReturnCode::Success {
                    let permanent = matches!(
                        code,
                        ConnectReturnCode::BadUserNamePassword
                            | ConnectReturnCode::NotAuthorized
                            | ConnectReturnCode::BadClientId
                            | ConnectReturnCode::RefusedProtocolVersion
                    );
                    self.close(
                        format!("the broker refused the login ({code:?})"),
                        permanent,
                    );
                    return;
                }
                let pkid = self.pkid();
                self.subscribe_pkid = pkid;
                let mut subscribe = Subscribe::empty_subscribe();
                subscribe.pkid = pkid;
                for f in &self.config.filters {
                    subscribe.add(f.clone(), QoS::AtLeastOnce);
                }
                self.transmit(|b| subscribe.write(b), now);
                self.set_state(BrokerState::Subscribing);
            }
            (BrokerState::Subscribing, Packet::SubAck(SubAck { pkid, return_codes }))
                if pkid == self.subscribe_pkid =>
            {
                let refused: Vec<String> = self
                    .config
                    .filters
                    .iter()
                    .zip(
                        return_codes
                            .iter()
                            .chain(std::iter::repeat(&SubscribeReasonCode::Failure)),
                    )
                    .filter(|(_, c)| **c == SubscribeReasonCode::Failure)
                    .map(|(f, _)| f.clone())
                    .collect();
                if !refused.is_empty() {
                    self.out.push_back(BrokerOutput::Refused(refused));
                }
                self.set_state(BrokerState::Ready);
            }
            (BrokerState::Subscribing | BrokerState::Ready, Packet::Publish(p)) => {
                match p.qos {
                    QoS::AtMostOnce => {}
                    QoS::AtLeastOnce => self.transmit(|b| PubAck::new(p.pkid).write(b), now),
                    QoS::ExactlyOnce => {
                        // subscribed at QoS 1: a broker never sends QoS 2 here
                        self.close("the broker sent a QoS 2 publish".into(), false);
                        return;
                    }
                }
                self.out.push_back(BrokerOutput::Message {
                    topic: p.topic,
                    payload: p.payload.to_vec(),
                });
            }
            (_, Packet::PubAck(PubAck { pkid })) => {
                if let Some(i) = self.in_flight.iter().position(|(id, _)| *id == pkid) {
                    self.in_flight.remove(i);
                    self.out.push_back(BrokerOutput::Published(pkid));
                }
            }
            (_, Packet::PingResp) => self.ping_sent = None,
            (_, Packet::Disconnect) => self.close("the broker ended the session".into(), false),
            (state, p) => self.close(
                format!("unexpected {} from the broker while {state:?}", name(&p)),
                false,
            ),
        }
    }

    fn pkid(&mut self) -> u16 {
        let id = self.next_pkid;
        self.next_pkid = self.next_pkid.checked_add(1).unwrap_or(1);
        id
    }

    fn set_state(&mut self, state: BrokerState) {
        self.state = state;
        self.out.push_back(BrokerOutput::State(state));
    }

    fn close(&mut self, reason: String, permanent: bool) {
        self.set_state(BrokerState::Closed);
        self.in_flight.clear();
        self.out
            .push_back(BrokerOutput::Closed { reason, permanent });
    }

    fn transmit(&mut self, write: impl FnOnce(&mut BytesMut) -> Result<usize, Mqtt>, now: Millis) {
        let mut buf = BytesMut::new();
        match write(&mut buf) {
            Ok(_) => self.send_bytes(buf.to_vec(), now),
            Err(e) => self.close(format!("cannot encode a packet ({e:?})"), true),
        }
    }

    fn send_bytes(&mut self, bytes: Vec<u8>, now: Millis) {
        self.last_sent = now;
        self.out.push_back(BrokerOutput::Transmit(bytes));
    }
}

/// A packet's name for messages.
fn name(p: &Packet) -> &'static str {
    match p {
        Packet::Connect(_) => "CONNECT",
        Packet::ConnAck(_) => "CONNACK",
        Packet::Publish(_) => "PUBLISH",
        Packet::PubAck(_) => "PUBACK",
        Packet::PubRec(_) => "PUBREC",
        Packet::PubRel(_) => "PUBREL",
        Packet::PubComp(_) => "PUBCOMP",
        Packet::Subscribe(_) => "SUBSCRIBE",
        Packet::SubAck(_) => "SUBACK",
        Packet::Unsubscribe(_) => "UNSUBSCRIBE",
        Packet::UnsubAck(_) => "UNSUBACK",
        Packet::PingReq => "PINGREQ",
        Packet::PingResp => "PINGRESP",
        Packet::Disconnect => "DISCONNECT",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config(login: bool) -> BrokerConfig {
        BrokerConfig {
            client_id: "test".into(),
            login: login.then(|| ("u".into(), "p".into())),
            filters: vec!["vscp/#".into(), "vscp/servers/+".into()],
        }
    }

    /// What the session transmitted, decoded as the broker reads it.
    fn sent(s: &mut BrokerSession) -> (Vec<Packet>, Vec<BrokerOutput>) {
        let (mut packets, mut other) = (Vec::new(), Vec::new());
        while let Some(o) = s.poll_output() {
            match o {
                BrokerOutput::Transmit(b) => {
                    let mut buf = BytesMut::from(&b[..]);
                    while !buf.is_empty() {
                        packets.push(mqttbytes::v4::read(&mut buf, MAX_PACKET).unwrap());
                    }
                }
                o => other.push(o),
            }
        }
        (packets, other)
    }

    fn bytes(write: impl FnOnce(&mut BytesMut) -> Result<usize, Mqtt>) -> Vec<u8> {
        let mut b = BytesMut::new();
        write(&mut b).unwrap();
        b.to_vec()
    }

    fn ready(now: Millis) -> BrokerSession {
        let mut s = BrokerSession::new(config(true), now);
        sent(&mut s);
        s.handle_bytes(
            &bytes(|b| ConnAck::new(ConnectReturnCode::Success, false).write(b)),
            now,
        );
        let (p, _) = sent(&mut s);
        let Packet::Subscribe(sub) = &p[0] else {
            panic!("{p:?}")
        };
        let codes = vec![SubscribeReasonCode::Success(QoS::AtLeastOnce); 2];
        s.handle_bytes(&bytes(|b| SubAck::new(sub.pkid, codes).write(b)), now);
        assert_eq!(s.state(), BrokerState::Ready);
        sent(&mut s);
        s
    }

    #[test]
    fn logs_in_subscribes_and_acknowledges_publishes_split_anyhow() {
        let mut s = BrokerSession::new(config(true), Millis(0));
        let (p, _) = sent(&mut s);
        let Packet::Connect(c) = &p[0] else {
            panic!("{p:?}")
        };
        assert_eq!(c.login.as_ref().map(|l| l.username.as_str()), Some("u"));
        assert_eq!(c.keep_alive, KEEP_ALIVE_S);
        s.handle_bytes(
            &bytes(|b| ConnAck::new(ConnectReturnCode::Success, false).write(b)),
            Millis(1),
        );
        let (p, o) = sent(&mut s);
        let Packet::Subscribe(sub) = &p[0] else {
            panic!("{p:?}")
        };
        let filters: Vec<&str> = sub.filters.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(filters, ["vscp/#", "vscp/servers/+"]);
        assert_eq!(o, [BrokerOutput::State(BrokerState::Subscribing)]);
        // the SUBACK and two publishes in one message, then a publish in three pieces
        let mut wire = bytes(|b| {
            SubAck::new(
                sub.pkid,
                vec![
                    SubscribeReasonCode::Success(QoS::AtLeastOnce),
                    SubscribeReasonCode::Failure,
                ],
            )
            .write(b)
        });
        for (i, topic) in ["vscp/a", "vscp/b", "vscp/c"].iter().enumerate() {
            let mut p = Publish::new(*topic, QoS::AtLeastOnce, vec![b'x'; 300]);
            p.pkid = 10 + i as u16;
            wire.extend(bytes(|b| p.write(b)));
        }
        let cut = wire.len() - 200;
        s.handle_bytes(&wire[..cut - 7], Millis(2));
        s.handle_bytes(&wire[cut - 7..cut], Millis(2));
        s.handle_bytes(&wire[cut..], Millis(2));
        let (p, o) = sent(&mut s);
        let acks: Vec<u16> = p
            .iter()
            .map(|p| match p {
                Packet::PubAck(a) => a.pkid,
                p => panic!("{p:?}"),
            })
            .collect();
        assert_eq!(acks, [10, 11, 12]);
        assert_eq!(o[0], BrokerOutput::Refused(vec!["vscp/servers/+".into()]));
        assert_eq!(o[1], BrokerOutput::State(BrokerState::Ready));
        let topics: Vec<&str> = o[2..]
            .iter()
            .map(|o| match o {
                BrokerOutput::Message { topic, payload, .. } => {
                    assert_eq!(payload.len(), 300);
                    topic.as_str()
                }
                o => panic!("{o:?}"),
            })
            .collect();
        assert_eq!(topics, ["vscp/a", "vscp/b", "vscp/c"]);
    }

    #[test]
    fn own_publishes_are_tracked_until_acknowledged_or_late() {
        let mut s = ready(Millis(0));
        let a = s
            .publish("vscp/command/a", b"{}".to_vec(), Millis(0))
            .unwrap();
        let b = s
            .publish("vscp/command/a", b"{}".to_vec(), Millis(5))
            .unwrap();
        let (p, _) = sent(&mut s);
        assert!(matches!(&p[0], Packet::Publish(x) if x.pkid == a && x.qos == QoS::AtLeastOnce));
        s.handle_bytes(&bytes(|w| PubAck::new(a).write(w)), Millis(10));
        assert_eq!(sent(&mut s).1, [BrokerOutput::Published(a)]);
        s.handle_timeout(Millis(5 + PUBACK_TIMEOUT_MS));
        assert!(sent(&mut s).1.contains(&BrokerOutput::Unacknowledged(b)));
    }

    #[test]
    fn pings_when_quiet_and_gives_up_without_an_answer() {
        let mut s = ready(Millis(0));
        let half = u64::from(KEEP_ALIVE_S) * 500;
        assert_eq!(s.poll_timeout(), Some(Millis(half)));
        s.handle_timeout(Millis(half - 1));
        assert!(sent(&mut s).0.is_empty());
        s.handle_timeout(Millis(half));
        assert_eq!(sent(&mut s).0, [Packet::PingReq]);
        s.handle_bytes(&[0xD0, 0], Millis(half + 5)); // PINGRESP
        s.handle_timeout(Millis(2 * half));
        assert_eq!(sent(&mut s).0, [Packet::PingReq]);
        s.handle_timeout(Millis(4 * half));
        let (_, o) = sent(&mut s);
        assert!(
            matches!(&o[..], [BrokerOutput::State(BrokerState::Closed), BrokerOutput::Closed { permanent: false, reason }] if reason.contains("pings"))
        );
    }

    #[test]
    fn a_refused_login_is_permanent_and_nonsense_closes() {
        let mut s = BrokerSession::new(config(true), Millis(0));
        s.handle_bytes(
            &bytes(|b| ConnAck::new(ConnectReturnCode::BadUserNamePassword, false).write(b)),
            Millis(1),
        );
        let (_, o) = sent(&mut s);
        assert!(matches!(
            o.last(),
            Some(BrokerOutput::Closed {
                permanent: true,
                ..
            })
        ));
        assert_eq!(
            s.publish("t", vec![], Millis(2)),
            Err(PublishError::NotReady)
        );

        let mut s = ready(Millis(0));
        // a publish header announcing 1 MiB
        s.handle_bytes(&[0x32, 0x80, 0x80, 0x40], Millis(1));
        let (_, o) = sent(&mut s);
        assert!(matches!(
            o.last(),
            Some(BrokerOutput::Closed {
                permanent: false,
                ..
            })
        ));
        assert_eq!(s.state(), BrokerState::Closed);
    }

    proptest! {
        /// Any bytes from a broker: no panic, the buffer stays within one packet, and a
        /// session that closed says so once.
        #[test]
        fn any_bytes_are_survived(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..300), 0..20)) {
            let mut s = ready(Millis(0));
            for c in &chunks {
                s.handle_bytes(c, Millis(1));
                prop_assert!(s.input.len() <= MAX_PACKET + 5);
            }
            s.handle_timeout(Millis(1_000_000));
            let closes = std::iter::from_fn(|| s.poll_output())
                .filter(|o| matches!(o, BrokerOutput::Closed { .. }))
                .count();
            prop_assert!(closes <= 1);
        }
    }
}
