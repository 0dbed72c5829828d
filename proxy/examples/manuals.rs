//! Writes the man page and the shell completions of `vscp-proxy` from its command-line
//! definition, into the folder given (`./x release` packages them):
//! `man/vscp-proxy.1` (with a page per subcommand) and `completions/` for bash, zsh and fish.

use std::{fs, path::PathBuf};

use clap::CommandFactory;
use clap_complete::Shell;

fn main() -> std::io::Result<()> {
    let out = PathBuf::from(
        std::env::args_os()
            .nth(1)
            .unwrap_or_else(|| "manuals".into()),
    );
    let command = vscp_proxy::Args::command().name("vscp-proxy");
    let man = out.join("man");
    fs::create_dir_all(&man)?;
    clap_mangen::generate_to(command.clone(), &man)?;
    let completions = out.join("completions");
    fs::create_dir_all(&completions)?;
    for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
        clap_complete::generate_to(shell, &mut command.clone(), "vscp-proxy", &completions)?;
    }
    Ok(())
}
