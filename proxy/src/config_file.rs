//! `vscp-proxy --config FILE`: the same settings as the command line, in TOML. Every long
//! option is a key of the same name (`listen = "127.0.0.1:8080"`, `demo = true`,
//! `allow-origin = ["https://a"]`); targets and brokers are tables (`[[node]]` with `name`,
//! `address` and `login`; `[[broker]]` with `name` and `address`). An option given on the
//! command line wins over the file's key (a repeated option replaces the file's list).
//!
//! The file's keys become options read by the one command-line parser, so both are checked
//! the same way; a bad key or value is refused with the file, its line, the key and what is
//! allowed.

use std::{
    collections::BTreeMap,
    ffi::OsString,
    path::{Path, PathBuf},
};

use clap::{ArgAction, CommandFactory, FromArgMatches, parser::ValueSource};
use toml::{Spanned, Value};

use crate::config::Args;

/// Where each setting came from, for error messages and `--check`.
#[derive(Clone, Debug, Default)]
pub struct Origins {
    /// The configuration file, when one was given.
    pub file: Option<PathBuf>,
    /// Line in the file of each key it set, by option id.
    lines: BTreeMap<String, usize>,
}

impl Origins {
    /// Where the option `id` was set, in words (`proxy.toml:12, key users`).
    #[must_use]
    pub fn of(&self, id: &str) -> String {
        match (&self.file, self.lines.get(id)) {
            (Some(f), Some(line)) => format!("{}:{line}, key `{}`", f.display(), long(id)),
            _ => format!("--{}", long(id)),
        }
    }

    /// The line of the file that set `id`, if the file did.
    #[must_use]
    pub fn line(&self, id: &str) -> Option<usize> {
        self.lines.get(id).copied()
    }
}

/// The long option of an argument id (`static_dir` → `static`).
fn long(id: &str) -> String {
    Args::command()
        .get_arguments()
        .find(|a| a.get_id() == id)
        .and_then(|a| a.get_long().map(str::to_string))
        .unwrap_or_else(|| id.replace('_', "-"))
}

/// The command line, with the file named by `--config` under it.
pub struct Loaded {
    /// The options.
    pub args: Args,
    /// The options as parsed (for `--check`).
    pub matches: clap::ArgMatches,
    /// Where each came from.
    pub origins: Origins,
}

/// Reads the command line and the file it names. `Err` is the message for a refusal (exit
/// code 2; clap's own for `--help` and `--version`).
pub fn load(argv: Vec<OsString>) -> Result<Loaded, clap::Error> {
    let matches = Args::command().try_get_matches_from(&argv)?;
    let Some(file) = matches.get_one::<PathBuf>("config").cloned() else {
        let args = Args::from_arg_matches(&matches)?;
        return Ok(Loaded {
            args,
            matches,
            origins: Origins::default(),
        });
    };
    let text = std::fs::read_to_string(&file).map_err(|e| refuse(&file, None, &e.to_string()))?;
    let (options, lines) = options(&file, &text)?;
    // the command line's own options win: the file's of the same id are left out
    let mut all: Vec<OsString> = argv.first().cloned().into_iter().collect();
    let mut from_file = BTreeMap::new();
    for (id, args) in options {
        if matches.value_source(&id) == Some(ValueSource::CommandLine) {
            continue;
        }
        all.extend(args.into_iter().map(OsString::from));
        if let Some(line) = lines.get(&id) {
            from_file.insert(id, *line);
        }
    }
    all.extend(argv.into_iter().skip(1));
    // a value clap refuses is told with the key and line it came from
    let refused = |e: clap::Error| {
        let option = e
            .get(clap::error::ContextKind::InvalidArg)
            .map(|v| v.to_string())
            .unwrap_or_default();
        let key = option
            .trim_start_matches("--")
            .split([' ', '='])
            .next()
            .unwrap_or_default()
            .to_string();
        let line = Args::command()
            .get_arguments()
            .find(|a| a.get_long() == Some(key.as_str()))
            .and_then(|a| from_file.get(a.get_id().as_str()).copied());
        match line {
            Some(line) => refuse(&file, Some(line), &format!("key `{key}`: {}", words(&e))),
            None => refuse(
                &file,
                None,
                &format!("with the command line: {}", words(&e)),
            ),
        }
    };
    let matches = Args::command()
        .try_get_matches_from(&all)
        .map_err(&refused)?;
    let args = Args::from_arg_matches(&matches).map_err(&refused)?;
    Ok(Loaded {
        args,
        matches,
        origins: Origins {
            file: Some(file),
            lines: from_file,
        },
    })
}

/// A refusal that names the file (and the line).
fn refuse(file: &Path, line: Option<usize>, why: &str) -> clap::Error {
    let at = match line {
        Some(l) => format!("{}:{l}", file.display()),
        None => file.display().to_string(),
    };
    clap::Error::raw(
        clap::error::ErrorKind::InvalidValue,
        format!("config file {at}: {why}\n"),
    )
}

/// A clap error in one line, without its "error: " and usage.
fn words(e: &clap::Error) -> String {
    let text = e.to_string();
    let said: Vec<&str> = text
        .lines()
        .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    said.join(" ").trim_start_matches("error: ").to_string()
}

/// The options each key of the file stands for, by argument id, and each key's line.
type Options = (BTreeMap<String, Vec<String>>, BTreeMap<String, usize>);

fn options(file: &Path, text: &str) -> Result<Options, clap::Error> {
    let line_of = |at: usize| text[..at.min(text.len())].matches('\n').count() + 1;
    let table: BTreeMap<Spanned<String>, Spanned<Value>> = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_of(s.start));
        refuse(file, line, &format!("not TOML: {}", e.message()))
    })?;
    if table.is_empty() {
        return Err(refuse(
            file,
            None,
            "no settings in it (an empty file is refused: give at least `listen`, `node` or `demo`)",
        ));
    }
    let cmd = Args::command();
    let mut out = BTreeMap::new();
    let mut lines = BTreeMap::new();
    for (key, value) in table {
        let line = line_of(key.span().start);
        let key = key.into_inner();
        let bad = |why: String| refuse(file, Some(line), &format!("key `{key}`: {why}"));
        let arg = cmd
            .get_arguments()
            .find(|a| {
                a.get_long() == Some(key.as_str()) && !matches!(key.as_str(), "config" | "check")
            })
            .ok_or_else(|| {
                bad(format!(
                    "not a setting; the settings are: {}",
                    allowed(&cmd)
                ))
            })?;
        let id = arg.get_id().to_string();
        let value = value.into_inner();
        let texts: Vec<String> = match (key.as_str(), &value) {
            ("node" | "broker", Value::Array(items)) => items
                .iter()
                .map(|item| target(&key, item))
                .collect::<Result<_, _>>()
                .map_err(&bad)?,
            (_, v) => match (arg.get_action(), v) {
                (ArgAction::SetTrue, Value::Boolean(b)) => {
                    // `false` is the flag left out (still a setting of the file's)
                    out.insert(
                        id.clone(),
                        b.then(|| format!("--{key}")).into_iter().collect(),
                    );
                    lines.insert(id, line);
                    continue;
                }
                (ArgAction::SetTrue, _) => return Err(bad("true or false".into())),
                (ArgAction::Append, Value::Array(items)) => items
                    .iter()
                    .map(scalar)
                    .collect::<Result<_, _>>()
                    .map_err(&bad)?,
                (_, v) => vec![scalar(v).map_err(&bad)?],
            },
        };
        if key == "node" {
            let mut names: Vec<&str> = texts.iter().filter_map(|t| t.split('=').next()).collect();
            names.sort_unstable();
            if let Some(w) = names.windows(2).find(|w| w[0] == w[1]) {
                return Err(bad(format!(
                    "two targets named {:?}: names must differ",
                    w[0]
                )));
            }
        }
        out.insert(
            id.clone(),
            texts.into_iter().map(|t| format!("--{key}={t}")).collect(),
        );
        lines.insert(id, line);
    }
    Ok((out, lines))
}

/// The keys a file may have.
fn allowed(cmd: &clap::Command) -> String {
    let keys: Vec<&str> = cmd
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| !matches!(*l, "config" | "check" | "help" | "version"))
        .collect();
    keys.join(", ")
}

/// A string, number or path value as the option's text.
fn scalar(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Integer(i) => Ok(i.to_string()),
        Value::Float(f) => Ok(f.to_string()),
        Value::Boolean(_) => Err("a value, not true/false (this option takes one)".into()),
        Value::Array(_) => Err("one value, not a list".into()),
        _ => Err("a string or a number".into()),
    }
}

/// A `[[node]]` or `[[broker]]` table (or its `NAME=HOST:PORT` text) as the option's text.
fn target(key: &str, item: &Value) -> Result<String, String> {
    let Value::Table(t) = item else {
        return scalar(item);
    };
    let known: &[&str] = if key == "node" {
        &["name", "address", "login"]
    } else {
        &["name", "address"]
    };
    if let Some(other) = t.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(format!(
            "`{other}` is not a field of a [[{key}]] table; its fields: {}",
            known.join(", ")
        ));
    }
    let field = |f: &str| match t.get(f) {
        Some(Value::String(s)) => Ok(Some(s.clone())),
        None => Ok(None),
        Some(_) => Err(format!("[[{key}]] {f}: a string")),
    };
    let (Some(name), Some(address)) = (field("name")?, field("address")?) else {
        return Err(format!("each [[{key}]] needs `name` and `address`"));
    };
    Ok(match field("login")? {
        Some(login) => format!("{name}={address},login={login}"),
        None => format!("{name}={address}"),
    })
}

/// The effective settings of `matches`, one `key = value` line each with where it came
/// from; secrets as `***`.
#[must_use]
pub fn describe(matches: &clap::ArgMatches, origins: &Origins) -> String {
    use std::fmt::Write;
    let cmd = Args::command();
    let mut out = String::new();
    for arg in cmd.get_arguments() {
        let (id, Some(key)) = (arg.get_id().as_str(), arg.get_long()) else {
            continue;
        };
        if matches!(key, "config" | "check" | "help" | "version") {
            continue;
        }
        let values: Vec<String> = matches
            .get_raw(id)
            .into_iter()
            .flatten()
            .map(|v| v.to_string_lossy().into_owned())
            .map(|v| {
                if SECRETS.contains(&key) {
                    "***".into()
                } else {
                    v
                }
            })
            .collect();
        let from = match (matches.value_source(id), origins.line(id)) {
            (_, Some(line)) => format!("line {line}"),
            (Some(ValueSource::CommandLine), None) => "command line".into(),
            (Some(ValueSource::DefaultValue), _) => "default".into(),
            _ => "not set".into(),
        };
        let value = match (arg.get_action(), values.as_slice()) {
            (ArgAction::SetTrue, [v]) => v.clone(),
            (ArgAction::Append, vs) => format!("{vs:?}"),
            (_, [v]) if v.parse::<f64>().is_ok() => v.clone(),
            (_, [v]) => format!("{v:?}"),
            (_, _) => "(none)".into(),
        };
        let _ = writeln!(out, "{key} = {value}  # {from}");
    }
    out
}

/// Options whose values `--check` never prints.
const SECRETS: &[&str] = &["token"];
