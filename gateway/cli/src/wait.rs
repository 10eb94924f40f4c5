//! `--wait`: follow the target devices' queues until each is done or halted,
//! with a progress bar per device (a line per change without a terminal).

use crate::client::Client;
use crate::failure::{CliError, Exit};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use outfit_wsdl::operator::{OperatorRequest, OperatorResponse, ShowDevice};
use std::time::{Duration, Instant};

/// Waits for `devices`; an error if one halted or time ran out.
pub fn queues(client: &Client, devices: &[String], timeout: Duration) -> Result<(), CliError> {
    let bars = MultiProgress::new();
    let style = ProgressStyle::with_template("{prefix:>16} [{bar:30}] {pos}/{len} {msg}")
        .expect("a valid template")
        .progress_chars("=> ");
    let plain = !std::io::IsTerminal::is_terminal(&std::io::stderr());
    let handles: Vec<ProgressBar> = devices
        .iter()
        .map(|name| {
            let bar = bars.add(ProgressBar::new(0));
            bar.set_style(style.clone());
            bar.set_prefix(name.clone());
            bar
        })
        .collect();
    let deadline = Instant::now() + timeout;
    let mut shown = vec![String::new(); devices.len()];
    // Short work (a file, a restart) is done within milliseconds: look again
    // soon, then half as often again each time, up to every 300 ms.
    let mut pause = Duration::from_millis(5);
    loop {
        let mut done = 0;
        let mut halted = Vec::new();
        for (i, (name, bar)) in devices.iter().zip(&handles).enumerate() {
            let OperatorResponse::ShowDevice(shown_device) =
                client.call(OperatorRequest::ShowDevice(ShowDevice { device: name.clone() }))?
            else {
                return Err(CliError::new(Exit::Internal, "the gateway answered ShowDevice with another response"));
            };
            let s = shown_device.summary;
            let open = u64::from((s.pending + s.sent + s.rebooting).max(0) as u32);
            let finished = s.succeeded.max(0) as u64;
            bar.set_length(finished + open + s.failed.max(0) as u64 + s.timed_out.max(0) as u64);
            bar.set_position(finished);
            let line = format!("{name}: {} succeeded, {open} to go, queue {}", s.succeeded, s.queue);
            if plain && shown[i] != line {
                eprintln!("{line}");
                shown[i] = line;
            }
            match s.queue.as_str() {
                "halted" => {
                    bar.abandon_with_message("halted");
                    halted.push(name.clone());
                    done += 1;
                }
                "idle" => {
                    bar.finish_with_message("done");
                    done += 1;
                }
                other => bar.set_message(other.to_owned()),
            }
        }
        if done == devices.len() {
            if halted.is_empty() {
                return Ok(());
            }
            return Err(CliError::new(Exit::Halted, format!("halted: {}", halted.join(", ")))
                .help("see why with `outfit queue show DEVICE`, then `outfit queue retry|skip|abort DEVICE`"));
        }
        if Instant::now() > deadline {
            return Err(CliError::new(Exit::Halted, format!("still running after {} s", timeout.as_secs()))
                .help("follow it with `outfit status`, or wait longer with --timeout"));
        }
        std::thread::sleep(pause);
        pause = (pause * 3 / 2).min(Duration::from_millis(300));
    }
}
