//! One module per docker command group; `dispatch` routes a parsed command to its verb.

pub mod builder;
pub mod compose;
pub mod container;
pub mod image;
pub mod network;
pub mod registry;
pub mod system;
pub mod volume;

use crate::cli::{BuilderCmd, Cmd, ContainerCmd, ImageCmd, NetworkCmd, SystemCmd, VolumeCmd};
use crate::client::Client;
use crate::error::CmdResult;

/// Connect (negotiating the API version) and run one command.
pub async fn dispatch(host: &str, cmd: Cmd) -> CmdResult {
    // run/create report connection failures with 125 like docker does.
    if let Cmd::Logout(a) = cmd {
        return registry::logout::run(a);
    }
    // `compose config`/`version` need no daemon.
    if matches!(&cmd, Cmd::Compose(a) if !a.needs_daemon()) {
        if let Cmd::Compose(a) = cmd {
            return compose::run_offline(a);
        }
    }
    let connect_code =
        matches!(cmd, Cmd::Run(_) | Cmd::Create(_) | Cmd::Container(ContainerCmd::Run(_) | ContainerCmd::Create(_)));
    let c = Client::connect(host).await.map_err(|e| if connect_code { e.with_code(125) } else { e })?;
    use container as ct;
    use image as im;
    match cmd {
        Cmd::Run(a) | Cmd::Container(ContainerCmd::Run(a)) => ct::run::run(&c, a).await,
        Cmd::Create(a) | Cmd::Container(ContainerCmd::Create(a)) => ct::create::run(&c, a).await,
        Cmd::Start(a) | Cmd::Container(ContainerCmd::Start(a)) => ct::start::run(&c, a).await,
        Cmd::Stop(a) | Cmd::Container(ContainerCmd::Stop(a)) => ct::stop::run(&c, a).await,
        Cmd::Kill(a) | Cmd::Container(ContainerCmd::Kill(a)) => ct::kill::run(&c, a).await,
        Cmd::Restart(a) | Cmd::Container(ContainerCmd::Restart(a)) => ct::restart::run(&c, a).await,
        Cmd::Rm(a) | Cmd::Container(ContainerCmd::Rm(a)) => ct::rm::run(&c, a).await,
        Cmd::Ps(a) | Cmd::Container(ContainerCmd::Ls(a)) => ct::ls::run(&c, a).await,
        Cmd::Logs(a) | Cmd::Container(ContainerCmd::Logs(a)) => ct::logs::run(&c, a).await,
        Cmd::Attach(a) | Cmd::Container(ContainerCmd::Attach(a)) => ct::attach::run(&c, a).await,
        Cmd::Cp(a) | Cmd::Container(ContainerCmd::Cp(a)) => ct::cp::run(&c, a).await,
        Cmd::Export(a) | Cmd::Container(ContainerCmd::Export(a)) => ct::export::run(&c, a).await,
        Cmd::Wait(a) | Cmd::Container(ContainerCmd::Wait(a)) => ct::wait::run(&c, a).await,
        Cmd::Top(a) | Cmd::Container(ContainerCmd::Top(a)) => ct::top::run(&c, a).await,
        Cmd::Exec(a) | Cmd::Container(ContainerCmd::Exec(a)) => ct::exec::run(&c, a).await,
        Cmd::Stats(a) | Cmd::Container(ContainerCmd::Stats(a)) => ct::stats::run(&c, a).await,
        Cmd::Update(a) | Cmd::Container(ContainerCmd::Update(a)) => ct::update::run(&c, a).await,
        Cmd::Pause(a) | Cmd::Container(ContainerCmd::Pause(a)) => ct::pause::run(&c, a, true).await,
        Cmd::Unpause(a) | Cmd::Container(ContainerCmd::Unpause(a)) => ct::pause::run(&c, a, false).await,
        Cmd::Port(a) | Cmd::Container(ContainerCmd::Port(a)) => ct::port::run(&c, a).await,
        Cmd::Rename(a) | Cmd::Container(ContainerCmd::Rename(a)) => ct::rename::run(&c, a).await,
        Cmd::Container(ContainerCmd::Inspect(a)) => ct::inspect::run(&c, a).await,
        Cmd::Inspect(a) => system::inspect::run(&c, a).await,
        Cmd::Images(a) | Cmd::Image(ImageCmd::Ls(a)) => im::ls::run(&c, a).await,
        Cmd::Import(a) | Cmd::Image(ImageCmd::Import(a)) => im::import::run(&c, a).await,
        Cmd::Load(a) | Cmd::Image(ImageCmd::Load(a)) => im::load::run(&c, a).await,
        Cmd::Pull(a) | Cmd::Image(ImageCmd::Pull(a)) => im::pull::run(&c, a).await,
        Cmd::Push(a) | Cmd::Image(ImageCmd::Push(a)) => im::push::run(&c, a).await,
        Cmd::Save(a) | Cmd::Image(ImageCmd::Save(a)) => im::save::run(&c, a).await,
        Cmd::Tag(a) | Cmd::Image(ImageCmd::Tag(a)) => im::tag::run(&c, a).await,
        Cmd::Rmi(a) | Cmd::Image(ImageCmd::Rm(a)) => im::rm::run(&c, a).await,
        Cmd::History(a) | Cmd::Image(ImageCmd::History(a)) => im::history::run(&c, a).await,
        Cmd::Image(ImageCmd::Inspect(a)) => im::inspect::run(&c, a).await,
        Cmd::Build(a) | Cmd::Image(ImageCmd::Build(a)) => im::build::run(&c, a).await,
        Cmd::Builder(BuilderCmd::Build(a)) => im::build::run(&c, a).await,
        Cmd::Builder(BuilderCmd::Prune(a)) => builder::prune::run(&c, a).await,
        Cmd::Commit(a) | Cmd::Container(ContainerCmd::Commit(a)) => ct::commit::run(&c, a).await,
        Cmd::Image(ImageCmd::Prune(a)) => im::prune::run(&c, a).await,
        Cmd::Container(ContainerCmd::Prune(a)) => ct::prune::run(&c, a).await,
        Cmd::System(SystemCmd::Prune(a)) => system::prune::run(&c, a).await,
        Cmd::System(SystemCmd::Df(a)) => system::df::run(&c, a).await,
        Cmd::Events(a) | Cmd::System(SystemCmd::Events(a)) => system::events::run(&c, a).await,
        Cmd::Network(NetworkCmd::Connect(a)) => network::connect::run(&c, a).await,
        Cmd::Network(NetworkCmd::Create(a)) => network::create::run(&c, a).await,
        Cmd::Network(NetworkCmd::Disconnect(a)) => network::disconnect::run(&c, a).await,
        Cmd::Network(NetworkCmd::Inspect(a)) => network::inspect::run(&c, a).await,
        Cmd::Network(NetworkCmd::Ls(a)) => network::ls::run(&c, a).await,
        Cmd::Network(NetworkCmd::Prune(a)) => network::prune::run(&c, a).await,
        Cmd::Network(NetworkCmd::Rm(a)) => network::rm::run(&c, a).await,
        Cmd::Volume(VolumeCmd::Create(a)) => volume::create::run(&c, a).await,
        Cmd::Volume(VolumeCmd::Inspect(a)) => volume::inspect::run(&c, a).await,
        Cmd::Volume(VolumeCmd::Ls(a)) => volume::ls::run(&c, a).await,
        Cmd::Volume(VolumeCmd::Prune(a)) => volume::prune::run(&c, a).await,
        Cmd::Volume(VolumeCmd::Rm(a)) => volume::rm::run(&c, a).await,
        Cmd::Search(a) => im::search::run(&c, a).await,
        Cmd::Login(a) => registry::login::run(&c, a).await,
        Cmd::Logout(a) => registry::logout::run(a),
        Cmd::Compose(a) => compose::run(&c, a).await,
        Cmd::Version(a) => system::version::run(&c, a).await,
        Cmd::Info(a) | Cmd::System(SystemCmd::Info(a)) => system::info::run(&c, a).await,
    }
}
