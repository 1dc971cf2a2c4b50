//! The `palisade` command. Thin: parse arguments, run the subcommand, map its
//! outcome to an exit status. Each subcommand lives in its own file under
//! `cli/`.

mod cli;

// See the workspace Cargo.toml for why.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(status) => status.into(),
        Err(e) => {
            // Errors quote plugin text and file names: one escaped text.
            eprintln!(
                "error: {}",
                palisade::render::escape::text(&format!("{e:#}"))
            );
            cli::Status::Error.into()
        }
    }
}
