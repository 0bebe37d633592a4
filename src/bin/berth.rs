//! `berth`: the docker-compatible CLI. Wiring only; everything lives in `berth_cli`.

fn main() {
    std::process::exit(berth_cli::run(std::env::args_os()));
}
