//! The gateway's Prometheus metrics (`GET /metrics` on the operator
//! listener): counters and latencies the SOAP edges record as they answer,
//! and gauges of the fleet read from the database at each scrape. The text
//! is Prometheus' classic exposition format, which `promtool check metrics`
//! reads.

use outfit_app::FleetGauges;
use prometheus::{Encoder, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts, Registry};
use std::time::Instant;

/// Which listener a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Agent,
    Operator,
    Peer,
    FileServer,
}

impl Endpoint {
    fn as_str(self) -> &'static str {
        match self {
            Self::Agent => "agent",
            Self::Operator => "operator",
            Self::Peer => "peer",
            Self::FileServer => "file_server",
        }
    }
}

/// Every metric of one gateway process.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    agent_exchanges: IntCounterVec,
    operator_requests: IntCounterVec,
    peer_requests: IntCounterVec,
    file_server_requests: IntCounterVec,
    faults: IntCounterVec,
    latency: HistogramVec,
    commands: IntGaugeVec,
    rollouts: IntGaugeVec,
    agents_seen: IntGauge,
    enrolments_waiting: IntGauge,
    pool_connections: IntGauge,
    pool_idle: IntGauge,
    /// Two scrapes at once would interleave resetting and setting the gauges.
    rendering: std::sync::Arc<std::sync::Mutex<()>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let registry = Registry::new();
        let counter = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntCounterVec::new(Opts::new(name, help), labels).expect("a valid counter");
            registry.register(Box::new(metric.clone())).expect("registered once");
            metric
        };
        let gauges = |name: &str, help: &str, labels: &[&str]| {
            let metric = IntGaugeVec::new(Opts::new(name, help), labels).expect("a valid gauge");
            registry.register(Box::new(metric.clone())).expect("registered once");
            metric
        };
        let gauge = |name: &str, help: &str| {
            let metric = IntGauge::new(name, help).expect("a valid gauge");
            registry.register(Box::new(metric.clone())).expect("registered once");
            metric
        };
        // Agent exchanges take ~1-20 ms; operator calls up to seconds (a fleet's listing).
        let buckets = vec![0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
        let latency = HistogramVec::new(
            HistogramOpts::new(
                "outfit_request_duration_seconds",
                "Time to answer a SOAP request once its body was read (database work included), by endpoint",
            )
            .buckets(buckets),
            &["endpoint"],
        )
        .expect("a valid histogram");
        registry.register(Box::new(latency.clone())).expect("registered once");
        Self {
            agent_exchanges: counter(
                "outfit_agent_exchanges_total",
                "Agent requests answered, by operation and outcome (ok or the Fault code)",
                &["operation", "outcome"],
            ),
            operator_requests: counter(
                "outfit_operator_requests_total",
                "Operator API requests answered, by operation and outcome (ok or the Fault code)",
                &["operation", "outcome"],
            ),
            peer_requests: counter(
                "outfit_peer_requests_total",
                "Peer service requests (other data centres) answered, by operation and outcome",
                &["operation", "outcome"],
            ),
            file_server_requests: counter(
                "outfit_file_server_requests_total",
                "File-server service requests (download checks) answered, by operation and outcome",
                &["operation", "outcome"],
            ),
            faults: counter("outfit_faults_total", "SOAP Faults answered, by endpoint and code", &["endpoint", "code"]),
            latency,
            commands: gauges("outfit_commands", "Commands in the queues, by state", &["state"]),
            rollouts: gauges("outfit_rollouts", "Rollouts, by state", &["state"]),
            agents_seen: gauge(
                "outfit_agents_seen_recently",
                "Devices whose agent exchanged with a gateway in the last 15 minutes",
            ),
            enrolments_waiting: gauge(
                "outfit_enrolment_requests_waiting",
                "Enrolment requests waiting for an operator's decision",
            ),
            pool_connections: gauge("outfit_db_pool_connections", "Database connections this gateway holds"),
            pool_idle: gauge("outfit_db_pool_idle_connections", "Database connections of this gateway not in use"),
            registry,
            rendering: Default::default(),
        }
    }

    /// One SOAP request answered (`fault`: its code, if it was a Fault).
    pub fn answered(&self, endpoint: Endpoint, operation: &str, fault: Option<&str>, started: Instant) {
        let outcome = fault.unwrap_or("ok");
        let requests = match endpoint {
            Endpoint::Agent => &self.agent_exchanges,
            Endpoint::Operator => &self.operator_requests,
            Endpoint::Peer => &self.peer_requests,
            Endpoint::FileServer => &self.file_server_requests,
        };
        requests.with_label_values(&[operation, outcome]).inc();
        if let Some(code) = fault {
            self.faults.with_label_values(&[endpoint.as_str(), code]).inc();
        }
        self.latency.with_label_values(&[endpoint.as_str()]).observe(started.elapsed().as_secs_f64());
    }

    /// The exposition text, with the gauges set from `fleet` first.
    pub fn render(&self, fleet: &FleetGauges) -> String {
        let _one_at_a_time = self.rendering.lock().unwrap_or_else(|e| e.into_inner());
        // A state no longer present drops out rather than keeping its last count.
        self.commands.reset();
        for (state, count) in &fleet.commands {
            self.commands.with_label_values(&[state.as_str()]).set(*count);
        }
        self.rollouts.reset();
        for (state, count) in &fleet.rollouts {
            self.rollouts.with_label_values(&[state.as_str()]).set(*count);
        }
        self.agents_seen.set(fleet.agents_seen);
        self.enrolments_waiting.set(fleet.enrolments_waiting);
        self.pool_connections.set(i64::from(fleet.pool_connections));
        self.pool_idle.set(i64::from(fleet.pool_idle));
        let mut text = Vec::new();
        prometheus::TextEncoder::new().encode(&self.registry.gather(), &mut text).expect("metrics encode");
        String::from_utf8(text).expect("the text format is UTF-8")
    }
}

/// The content type of [`Metrics::render`]'s text.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";
