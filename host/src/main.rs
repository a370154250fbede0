//! The `spanwise` command: `run`, `validate` and `demo`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use spanwise::config::{Config, EMBEDDED};
use std::path::PathBuf;
use std::process::ExitCode;

#[global_allocator]
static GLOBAL: spanwise::Allocator = spanwise::ALLOCATOR;

/// OpenTelemetry trace processors as WebAssembly components, in a collector-style pipeline.
#[derive(Parser)]
#[command(name = "spanwise", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the pipelines of a config until SIGINT or SIGTERM, then flush and exit. SIGHUP
    /// reads the config again and swaps in its tail samplers (`sampler:`, `shadow:`).
    Run {
        /// The collector-style YAML config.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Check a config as `run` does before it listens (plugins loaded and configured, pipelines
    /// and exporters built, endpoints resolved), without serving; exit 0 if it is valid.
    Validate {
        /// The collector-style YAML config.
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Send realistic digital-therapeutics traces through the example pipeline and report what
    /// each processor did.
    Demo {
        /// Use this config instead of the built-in copy of examples/pipeline.yaml.
        #[arg(long, short)]
        config: Option<PathBuf>,
        /// Where the file exporter writes the result (OTLP-JSON lines).
        #[arg(long, short, default_value = "spanwise-demo.jsonl")]
        output: PathBuf,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SPANWISE_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run { config: path } => {
            let config = Config::load(&path)?;
            let mut signals = spanwise::service::Signals::new();
            let running = spanwise::service::start(&config).await?;
            tracing::info!(
                "spanwise is running; SIGINT or SIGTERM stops it, SIGHUP reloads the tail samplers"
            );
            while signals.next().await == spanwise::service::Signal::Reload {
                let reloaded = match Config::load(&path) {
                    Ok(config) => running.reload_samplers(&config).await.map_err(Into::into),
                    Err(e) => Err(anyhow::Error::from(e)),
                };
                match reloaded {
                    Ok(swapped) => tracing::info!(?swapped, "reloaded the tail samplers"),
                    Err(e) => tracing::error!("reload refused, nothing changed: {e:#}"),
                }
            }
            tracing::info!("shutting down: flushing what the pipelines hold");
            let pipelines = running.pipelines().to_vec();
            running.shutdown().await;
            for pipeline in &pipelines {
                for stage in pipeline.summaries() {
                    tracing::info!(pipeline = %pipeline.id(), "{}", stage.line());
                }
            }
            tracing::info!("stopped");
            Ok(())
        }
        Command::Validate { config } => {
            let path = config;
            let config = Config::load(&path)?;
            let prepared = spanwise::service::prepare(&config).await?;
            let pipelines = prepared.pipelines().len();
            let listeners: Vec<String> = prepared
                .addresses()
                .iter()
                .map(|(receiver, protocol, address)| format!("{receiver}/{protocol} on {address}"))
                .collect();
            prepared.shutdown().await;
            println!(
                "{}: valid ({} pipelines, {} processors, {} exporters; would listen: {})",
                path.display(),
                pipelines,
                config.processors.len(),
                config.exporters.len(),
                if listeners.is_empty() {
                    "nowhere".to_owned()
                } else {
                    listeners.join(", ")
                }
            );
            Ok(())
        }
        Command::Demo { config, output } => {
            let (text, file) = match config {
                Some(path) => (
                    std::fs::read_to_string(&path)
                        .with_context(|| format!("cannot read {}", path.display()))?,
                    path,
                ),
                None => (
                    spanwise::demo::EXAMPLE_CONFIG.to_owned(),
                    PathBuf::from(format!("{EMBEDDED} examples/pipeline.yaml")),
                ),
            };
            let report = spanwise::demo::run(&text, &file, &output).await?;
            print!("{report}");
            Ok(())
        }
    }
}
