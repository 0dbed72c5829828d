//! What the console tells the user: errors that stay until dismissed or until the situation
//! they describe changes, warnings, and good news that goes away by itself.

use std::collections::VecDeque;

/// How serious a notice is (it decides its look and how long it stays).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    /// Something failed: stays until dismissed or its topic clears.
    Error,
    /// Something to know that did not fail (kept events with unreadable fields).
    Warning,
    /// Good news or a confirmation: goes after [`INFO_MS`].
    Info,
}

/// What a notice is about: notices about a situation clear when it changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// The connection and login (cleared by a working login or a new connection).
    Connection,
    /// The events of this connection (cleared by a new connection).
    Events,
    /// The open register editor (cleared when it closes or another opens).
    Registers,
    /// Anything else.
    Other,
}

/// One notice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Notice {
    /// Its number, for dismissing it.
    pub id: u64,
    /// How serious.
    pub level: Level,
    /// What it is about.
    pub topic: Topic,
    /// The words.
    pub text: String,
    /// When it was said (ms since the epoch).
    pub at: u64,
    /// Said this many times in a row.
    pub count: u32,
}

/// Notices kept at most.
pub const CAPACITY: usize = 20;
/// How long good news stays, ms.
pub const INFO_MS: u64 = 8_000;

/// The notices, oldest first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Notices {
    items: VecDeque<Notice>,
    next_id: u64,
}

impl Notices {
    /// Adds a notice; the same words said again count up instead of repeating.
    pub fn push(&mut self, level: Level, topic: Topic, text: String, now: u64) {
        if let Some(last) = self
            .items
            .iter_mut()
            .find(|n| n.text == text && n.level == level)
        {
            last.count += 1;
            last.at = now;
            return;
        }
        self.next_id += 1;
        self.items.push_back(Notice {
            id: self.next_id,
            level,
            topic,
            text,
            at: now,
            count: 1,
        });
        if self.items.len() > CAPACITY {
            // good news goes first, then the oldest
            let drop = self
                .items
                .iter()
                .position(|n| n.level == Level::Info)
                .unwrap_or(0);
            self.items.remove(drop);
        }
    }

    /// Updates the notice whose text starts with `key` in place, or adds it.
    pub fn upsert(&mut self, level: Level, topic: Topic, key: &str, text: String, now: u64) {
        match self.items.iter_mut().find(|n| n.text.starts_with(key)) {
            Some(n) => {
                n.text = text;
                n.at = now;
            }
            None => self.push(level, topic, text, now),
        }
    }

    /// Forgets every notice about `topic` (its situation changed).
    pub fn clear(&mut self, topic: Topic) {
        self.items.retain(|n| n.topic != topic);
    }

    /// Dismisses one notice, or all with `None`.
    pub fn dismiss(&mut self, id: Option<u64>) {
        match id {
            Some(id) => self.items.retain(|n| n.id != id),
            None => self.items.clear(),
        }
    }

    /// Lets good news older than [`INFO_MS`] go; true when one went.
    pub fn expire(&mut self, now: u64) -> bool {
        let before = self.items.len();
        self.items
            .retain(|n| n.level != Level::Info || n.at + INFO_MS > now);
        before != self.items.len()
    }

    /// Oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &Notice> {
        self.items.iter()
    }

    /// How many.
    #[must_use]
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// None?
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_stay_news_goes_topics_clear_repeats_count() {
        let mut n = Notices::default();
        n.push(Level::Error, Topic::Connection, "login failed".into(), 0);
        n.push(Level::Info, Topic::Registers, "MDF loaded".into(), 0);
        n.push(Level::Error, Topic::Connection, "login failed".into(), 10);
        assert_eq!(n.len(), 2);
        assert_eq!(n.iter().next().map(|x| x.count), Some(2));
        assert!(n.expire(INFO_MS + 1));
        assert_eq!(n.len(), 1, "the error stays");
        n.clear(Topic::Connection);
        assert!(n.is_empty(), "a working login clears the login error");
        n.push(Level::Warning, Topic::Events, "a".into(), 0);
        n.push(Level::Error, Topic::Other, "b".into(), 0);
        let id = n.iter().last().map(|x| x.id);
        n.dismiss(id);
        assert_eq!(n.iter().map(|x| x.text.as_str()).collect::<Vec<_>>(), ["a"]);
        n.dismiss(None);
        assert!(n.is_empty());
    }

    #[test]
    fn capped_news_first() {
        let mut n = Notices::default();
        n.push(Level::Info, Topic::Other, "news".into(), 0);
        for i in 0..CAPACITY {
            n.push(Level::Error, Topic::Other, format!("e{i}"), 0);
        }
        assert_eq!(n.len(), CAPACITY);
        assert!(n.iter().all(|x| x.level == Level::Error));
        n.upsert(Level::Warning, Topic::Events, "e1", "e1 updated".into(), 5);
        assert!(n.iter().any(|x| x.text == "e1 updated"));
    }
}
