//! A test-only processor that misbehaves on command; see `tests/guests/README.md`.

use spanwise_sdk::{
    ConfigError, HashFunction, Level, LogLevel, ProcessError, Processor, SpanBatch, StrColumn,
    StrField, Value,
};

/// Counts the batches this instance has seen.
pub struct Misbehave {
    calls: u64,
}

/// `{"panic_in_configure": true}` makes `configure` trap.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    #[serde(default)]
    panic_in_configure: bool,
}

impl Processor for Misbehave {
    fn configure(config: &str) -> Result<Self, ConfigError> {
        let config: Config = spanwise_sdk::parse_config(config)?;
        if config.panic_in_configure {
            panic!("guest panicked in configure on purpose");
        }
        Ok(Self { calls: 0 })
    }

    fn process<B: SpanBatch + ?Sized>(&mut self, batch: &mut B) -> Result<(), ProcessError> {
        self.calls += 1;
        let names = batch.str_field(StrField::Name);
        let rows: Vec<u32> = (0..batch.len() as u32).collect();
        let tag = |batch: &mut B, value: &str| {
            let values = StrColumn::from_options(rows.iter().map(|_| Some(value)));
            batch.set_str_attribute(Level::Span, "guest.touched", &rows, &values);
        };
        match names.get(0).unwrap_or("") {
            "loop" => {
                let mut spins: u64 = 0;
                loop {
                    spins = std::hint::black_box(spins.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "panic" => {
                tag(batch, "before-panic");
                panic!("guest panicked on purpose");
            }
            "oob" => {
                tag(batch, "before-oob");
                // An address past the end of any linear memory a plugin gets: the load traps
                // (a fault on a guard page, or an explicit bounds check without signals).
                #[allow(unsafe_code)]
                // SAFETY: none; reading out of bounds is the point, and WebAssembly turns it
                // into a trap instead of undefined behaviour.
                let byte = unsafe { std::ptr::read_volatile(0xFFFF_FFF0usize as *const u8) };
                std::hint::black_box(byte);
                Ok(())
            }
            "recurse" => {
                tag(batch, "before-recurse");
                std::hint::black_box(recurse(std::hint::black_box(1)));
                Ok(())
            }
            "fail" => {
                tag(batch, "before-failure");
                Err(ProcessError::Internal("failed on purpose".into()))
            }
            "bad-edit" => {
                tag(batch, "before-bad-edit");
                batch.drop_spans(&[u32::MAX]);
                Ok(())
            }
            "bad-complex" => {
                // A good edit, then an array value whose bytes do not decode as an AnyValue.
                tag(batch, "before-bad-complex");
                batch.set_attribute(
                    Level::Span,
                    "guest.complex",
                    &[0],
                    &[Value::Complex(vec![0x0a, 0xff, 0xff, 0xff])],
                );
                Ok(())
            }
            "bad-column-order" => {
                tag(batch, "before-bad-column");
                let column = StrColumn {
                    offsets: vec![0, 2, 1, 3],
                    data: b"abc".to_vec(),
                    present: vec![1, 1, 1],
                };
                batch.set_str_attribute(Level::Span, "guest.column", &[0, 1, 1], &column);
                Ok(())
            }
            "bad-column-utf8" => {
                tag(batch, "before-bad-column");
                let column = StrColumn {
                    offsets: vec![0, 2],
                    data: vec![0xff, 0xfe],
                    present: vec![1],
                };
                batch.set_str_field(StrField::Name, &[0], &column);
                Ok(())
            }
            "hash" => {
                // The digest of each span name under the host-held key `patient`, as hex.
                let (key, values) = match spanwise_sdk::keyed_hash("patient", &names) {
                    Ok(digests) => {
                        let hex: Vec<String> = digests
                            .chunks(32)
                            .map(|d| d.iter().map(|b| format!("{b:02x}")).collect())
                            .collect();
                        ("guest.hash", hex)
                    }
                    Err(message) => ("guest.hash_error", vec![message; rows.len()]),
                };
                let column = StrColumn::from_options(values.iter().map(|v| Some(v.as_str())));
                batch.set_str_attribute(Level::Span, key, &rows, &column);
                Ok(())
            }
            "hash-in-host" => {
                // Set a value, then have the host hash it (and the URL) under the key `patient`:
                // the host must hash the value set, not the value read.
                tag(batch, "before-hash");
                let secret = StrColumn::from_options(rows.iter().map(|_| Some("s3cret")));
                batch.set_str_attribute(Level::Span, "guest.secret", &rows, &secret);
                let keyed = HashFunction::HmacSha256("patient".into());
                batch.hash_attributes(Level::Span, &["guest.secret", "url.full"], &rows, &keyed);
                Ok(())
            }
            "log" => {
                println!("hello from the guest's stdout");
                spanwise_sdk::log(LogLevel::Warn, "hello from the log import");
                Ok(())
            }
            _ => {
                let calls = self.calls.to_string();
                let values = StrColumn::from_options(rows.iter().map(|_| Some(calls.as_str())));
                batch.set_str_attribute(Level::Span, "guest.calls", &rows, &values);
                spanwise_sdk::count("batches", 1);
                Ok(())
            }
        }
    }
}

spanwise_sdk::export_processor!(Misbehave);

/// Calls itself without end: a stack overflow, which WebAssembly turns into a trap.
#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let deeper = recurse(std::hint::black_box(depth + 1));
    std::hint::black_box([depth; 16]).iter().sum::<u64>() + deeper
}
