//! The console connected to an MQTT broker: events from every site's bridge, the bridges'
//! server lists, and sends as publishes to a server's command topic.

use std::rc::Rc;

use vscp_core::{Command, Guid, Millis};

use super::*;

impl Console {
    /// A broker connection carries events only: a SEND is published to the command topic
    /// of the chosen server; anything else is refused with the reason.
    pub(super) fn publish(&mut self, cmd: Command, purpose: Purpose, now: Millis) -> bool {
        let refuse = |c: &mut Console, msg: String| {
            if purpose == Purpose::Console {
                c.transcript(Transcript::Reply(msg, true));
            } else {
                c.notice(msg);
            }
            false
        };
        let Command::Send(ev) = cmd else {
            return refuse(
                self,
                format!(
                    "{}: an MQTT broker connection carries events only; connect to a link server for commands",
                    cmd.word()
                ),
            );
        };
        let Some(site) = self.site.clone() else {
            let msg = format!(
                "no server to send to: no bridge has announced one on {}",
                self.settings.topics().all_servers()
            );
            return refuse(self, msg);
        };
        let topic = self.settings.topics().command(&site);
        let payload = event_forms::to_json(&ev).to_string().into_bytes();
        let Some(b) = self.broker.as_mut() else {
            return refuse(self, "not connected".into());
        };
        match b.publish(&topic, payload, now) {
            Ok(_) => true,
            Err(e) => refuse(self, e.to_string()),
        }
    }

    pub(super) fn on_broker(&mut self, o: BrokerOutput, now: Millis) {
        match o {
            BrokerOutput::Transmit(bytes) => self.effects.push_back(Effect::SendBinary(bytes)),
            BrokerOutput::State(st) => {
                self.link = Link::Broker(st);
                if st == BrokerState::Ready {
                    self.attempt = 0;
                }
            }
            BrokerOutput::Refused(filters) => self.say(
                Level::Error,
                Topic::Connection,
                format!(
                    "the broker refused the subscription to {}",
                    filters.join(", ")
                ),
            ),
            BrokerOutput::Message { topic, payload } => self.broker_message(&topic, &payload, now),
            BrokerOutput::Published(_) => {}
            BrokerOutput::Unacknowledged(_) => {
                self.notice("the broker did not acknowledge a publish in time".into())
            }
            BrokerOutput::Closed { reason, permanent } => {
                self.broker = None;
                self.effects.push_back(Effect::Close);
                self.lost(now, reason, permanent);
            }
        }
    }

    /// A publish from the broker: a bridge's server list, or an event in VSCP's JSON form.
    pub(super) fn broker_message(&mut self, topic: &str, payload: &[u8], now: Millis) {
        if self.settings.topics().is_servers(topic) {
            if let Ok(d) = serde_json::from_slice::<vscp_api::topics::ServerList>(payload) {
                let sites = Rc::make_mut(&mut self.sites);
                sites.extend(d.servers);
                sites.sort();
                sites.dedup();
                if self.site.is_none() {
                    self.site = sites.first().cloned();
                }
            }
            return;
        }
        // a minimised event takes its GUID from the topic ({prefix}/{guid}/{class}/…)
        let topic_guid = topic
            .split('/')
            .find(|seg| seg.contains(':'))
            .and_then(|seg| seg.parse::<Guid>().ok());
        match std::str::from_utf8(payload)
            .map_err(|e| e.to_string())
            .and_then(|t| event_forms::from_payload(t, topic_guid).map_err(|e| e.to_string()))
        {
            Ok(event) => self.ingest(event, now),
            Err(e) => {
                self.broker_skipped += 1;
                // the first, then every thousandth: a busy foreign topic must not flood the notices
                if self.broker_skipped % 1_000 == 1 {
                    self.say(Level::Warning, Topic::Events, format!(
                        "{topic}: not a VSCP event (JSON, XML or a line: {e}); {} such messages skipped",
                        self.broker_skipped
                    ));
                }
            }
        }
    }
}
