//! The `spanwise` command: `run`, `validate`, `demo` and `gen`.

use anyhow::Context;
use clap::{Parser, Subcommand};
use spanwise::config::{Config, EMBEDDED};
use spanwise::loadgen::{Options, Protocol, Stop};
use spanwise_workload::Workload;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

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
    /// Send generated traces to an OTLP receiver and report spans sent, acknowledged and
    /// refused, and the rate achieved.
    Gen(GenArgs),
}

/// `spanwise gen`'s options.
#[derive(clap::Args)]
struct GenArgs {
    /// Where to send: `host:port` or a URL (HTTP posts to `/v1/traces` unless a path is given).
    /// Default 127.0.0.1:4318 for http, 127.0.0.1:4317 for grpc.
    #[arg(long, short)]
    endpoint: Option<String>,
    /// `http` (OTLP/HTTP protobuf) or `grpc`.
    #[arg(long, short, default_value = "http")]
    protocol: Protocol,
    /// `w1` (the OpenTelemetry benchmark shape), `w2` (API traffic with ids, e-mail addresses,
    /// health checks, errors and slow requests) or `w3` (traces of 5-200 spans over several
    /// requests).
    #[arg(long, short, default_value = "w2")]
    workload: Workload,
    /// The workload's seed: the same seed sends the same spans.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Spans per request.
    #[arg(long, short, default_value_t = 1000)]
    batch: usize,
    /// How many different requests are generated before sending starts and then sent in turn.
    #[arg(long, default_value_t = 32)]
    distinct: usize,
    /// Spans per second to aim at; without it, as fast as the receiver acknowledges.
    #[arg(long, short)]
    rate: Option<u64>,
    /// How long to send (`30s`, `2m`); the default is 10s unless --spans is given.
    #[arg(long, short, value_parser = duration, conflicts_with = "spans")]
    duration: Option<Duration>,
    /// How many spans to send (rounded up to whole requests), instead of a duration.
    #[arg(long, short)]
    spans: Option<u64>,
    /// Requests in flight at once.
    #[arg(long, short, default_value_t = 4)]
    concurrency: usize,
    /// How long one request may take before it counts as failed.
    #[arg(long, value_parser = duration, default_value = "10s")]
    timeout: Duration,
    /// Print the final report as one JSON object on stdout.
    #[arg(long)]
    json: bool,
}

fn duration(text: &str) -> Result<Duration, String> {
    spanwise::config::units::parse_duration(text)
}

impl GenArgs {
    fn options(&self) -> Options {
        Options {
            endpoint: self.endpoint.clone().unwrap_or_else(|| {
                match self.protocol {
                    Protocol::Grpc => "127.0.0.1:4317",
                    Protocol::Http => "127.0.0.1:4318",
                }
                .to_owned()
            }),
            protocol: self.protocol,
            workload: self.workload,
            seed: self.seed,
            batch: self.batch,
            distinct: self.distinct,
            rate: self.rate,
            stop: match self.spans {
                Some(spans) => Stop::Spans(spans),
                None => Stop::After(self.duration.unwrap_or(Duration::from_secs(10))),
            },
            concurrency: self.concurrency,
            timeout: self.timeout,
        }
    }
}

async fn generate(args: GenArgs) -> anyhow::Result<()> {
    let options = args.options();
    eprintln!(
        "spanwise gen: {} to {} over {}, {} spans a request, {} in flight, {}",
        options.workload,
        options.endpoint,
        options.protocol,
        options.batch,
        options.concurrency,
        match options.rate {
            Some(rate) => format!("{rate} spans/s"),
            None => "as fast as acknowledged".to_owned(),
        }
    );
    let live = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let report = spanwise::loadgen::run(&options, |so_far| {
        if live {
            eprint!("\r\x1b[2K{so_far}");
        } else {
            eprintln!("{so_far}");
        }
    })
    .await?;
    if live {
        eprintln!();
    }
    if args.json {
        println!(
            "{}",
            serde_json::json!({
                "workload": options.workload.to_string(),
                "protocol": options.protocol.to_string(),
                "requests": report.requests,
                "sent": report.sent,
                "acknowledged": report.acknowledged,
                "refused": report.refused,
                "failed": report.failed,
                "failed_requests": report.failed_requests,
                "seconds": report.elapsed.as_secs_f64(),
                "spans_per_second": report.rate(),
            })
        );
    } else {
        println!("{report}");
    }
    if report.failed_requests > 0 {
        anyhow::bail!("{} requests failed", report.failed_requests);
    }
    Ok(())
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
    let result = runtime.block_on(run(cli.command));
    // Whatever a timed-out shutdown left running is abandoned, not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// How often `spanwise run` looks at the config file and the plugin files for a change.
const WATCH_INTERVAL: std::time::Duration = std::time::Duration::from_secs(2);

/// The config file and the plugin files it names, with their fingerprints when last looked at.
struct Watched {
    files: Vec<(PathBuf, spanwise::reload::Fingerprint)>,
}

impl Watched {
    /// The config file at `config` as `seen`, and `plugins` as they are now.
    fn of(
        config: &std::path::Path,
        seen: spanwise::reload::Fingerprint,
        plugins: Vec<PathBuf>,
    ) -> Self {
        let plugins = plugins.into_iter().map(|path| {
            let now = spanwise::reload::fingerprint(&path);
            (path, now)
        });
        Self {
            files: std::iter::once((config.to_owned(), seen))
                .chain(plugins)
                .collect(),
        }
    }

    /// The config file was read as `seen`.
    fn config_seen(&mut self, seen: spanwise::reload::Fingerprint) {
        if let Some(first) = self.files.first_mut() {
            first.1 = seen;
        }
    }

    /// Whether any file changed since the last look (or since `of`).
    fn changed(&mut self) -> bool {
        let mut changed = false;
        for (path, seen) in &mut self.files {
            let now = spanwise::reload::fingerprint(path);
            if now != *seen {
                *seen = now;
                changed = true;
            }
        }
        changed
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Run { config: path } => {
            // Files are fingerprinted before they are read, so a change made while they are
            // being read is noticed at the next look.
            let seen = spanwise::reload::fingerprint(&path);
            let config = Config::load(&path)?;
            let mut watched = Watched::of(&path, seen, spanwise::reload::plugin_files(&config));
            let mut signals = spanwise::service::Signals::new();
            let running = spanwise::service::start(&config).await?;
            tracing::info!(
                "spanwise is running; SIGINT or SIGTERM stops it; SIGHUP, or a change of the config file or of a plugin file, reloads it"
            );
            let mut tick = tokio::time::interval(WATCH_INTERVAL);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                let why = tokio::select! {
                    signal = signals.next() => match signal {
                        spanwise::service::Signal::Stop => break,
                        spanwise::service::Signal::Reload => "SIGHUP",
                    },
                    _ = tick.tick() => {
                        if !watched.changed() {
                            continue;
                        }
                        "a watched file changed"
                    }
                };
                let seen = spanwise::reload::fingerprint(&path);
                let reloaded = match Config::load(&path) {
                    Ok(config) => {
                        // From now on, what this config names is watched; a refused file is
                        // not tried again until it changes again.
                        watched = Watched::of(&path, seen, spanwise::reload::plugin_files(&config));
                        running.reload(&config).await.map_err(Into::into)
                    }
                    Err(e) => {
                        watched.config_seen(seen);
                        Err(anyhow::Error::from(e))
                    }
                };
                match reloaded {
                    Ok(done) => tracing::info!(why, ?done, "reloaded"),
                    Err(e) => tracing::error!(why, "reload refused, nothing changed: {e:#}"),
                }
            }
            tracing::info!(timeout = ?config.service.shutdown_timeout, "shutting down: flushing what the pipelines hold");
            let pipelines = running.pipelines().to_vec();
            let drained = running
                .shutdown_within(Some(config.service.shutdown_timeout))
                .await;
            for pipeline in &pipelines {
                for stage in pipeline
                    .summaries()
                    .into_iter()
                    .chain(pipeline.exporter_summaries())
                {
                    tracing::info!(pipeline = %pipeline.id(), "{}", stage.line());
                }
            }
            drained?;
            tracing::info!("stopped");
            Ok(())
        }
        Command::Validate { config } => {
            let path = config;
            let config = Config::load(&path)?;
            let prepared = spanwise::service::prepare(&config).await?;
            let summary = spanwise::summary::summary(&config, &prepared.addresses());
            prepared.shutdown().await;
            println!(
                "{}: valid (plugins loaded and configured, endpoints parsed)\n{summary}",
                path.display()
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
        Command::Gen(args) => generate(args).await,
    }
}
