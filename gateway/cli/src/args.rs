//! The command line, as clap parses it. Every subcommand is one operation of
//! the operator API (or several, for `--wait`).

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "outfit", version, about = "Outfit's operator CLI: a client of the gateway's operator API")]
pub struct Cli {
    #[command(flatten)]
    pub connection: Connection,
    /// Print the gateway's answer as JSON (the operator WSDL's names) instead of tables.
    #[arg(long, global = true)]
    pub json: bool,
    #[command(subcommand)]
    pub command: Command,
}

/// Where to connect and as whom; each overrides the profile's setting.
#[derive(Args, Default)]
pub struct Connection {
    /// The profile to use (`outfit profile set`).
    #[arg(long, global = true, env = "OUTFIT_PROFILE", default_value = "default")]
    pub profile: String,
    /// The gateway's operator listener, https://HOST:PORT (its operator.url).
    #[arg(long, global = true, env = "OUTFIT_GATEWAY")]
    pub gateway: Option<String>,
    /// The gateway's CA certificate (its ca.pem).
    #[arg(long, global = true, env = "OUTFIT_CA")]
    pub ca: Option<PathBuf>,
    /// An operator client certificate (with --key) instead of a password.
    #[arg(long, global = true, env = "OUTFIT_CERT")]
    pub cert: Option<PathBuf>,
    #[arg(long, global = true, env = "OUTFIT_KEY")]
    pub key: Option<PathBuf>,
    /// The operator's name; the password comes from OUTFIT_PASSWORD or a prompt.
    #[arg(long, global = true, env = "OUTFIT_USER")]
    pub user: Option<String>,
}

#[derive(Subcommand)]
pub enum Command {
    /// The fleet: devices with their queues (filters and paging), overdue reboots.
    Status(ListArgs),
    /// Devices and their enrolment.
    #[command(subcommand)]
    Device(DeviceCmd),
    /// Build devices to their model's current version and poke their agents.
    Provision {
        /// The devices' site (needed with --model).
        #[arg(long)]
        site: Option<String>,
        /// Every device of this model (in --site).
        #[arg(long, conflicts_with = "devices", requires = "site")]
        model: Option<String>,
        /// Device names (or --model).
        devices: Vec<String>,
        /// Seconds the commands may wait for an offline device before they expire.
        #[arg(long, value_name = "SECONDS")]
        expires_in: Option<i64>,
        #[command(flatten)]
        wait: Wait,
    },
    /// One device's command queue.
    #[command(subcommand)]
    Queue(QueueCmd),
    /// Models and their versions.
    #[command(subcommand)]
    Model(ModelCmd),
    /// Role categories (OS, APP, CONTENT, and those added), ranked.
    #[command(subcommand)]
    Category(CategoryCmd),
    /// Rollouts: a model version applied to every device of the model in stages.
    #[command(subcommand)]
    Rollout(RolloutCmd),
    /// What devices report they hold.
    #[command(subcommand)]
    Inventory(InventoryCmd),
    /// Where devices differ from their model: list, remediate, promote.
    #[command(subcommand)]
    Drift(DriftCmd),
    /// Packages in the gateway's repository.
    #[command(subcommand)]
    Package(PackageCmd),
    /// Predefined scripts: named command sequences stored on the gateway.
    #[command(subcommand)]
    Script(ScriptCmd),
    /// Plug-ins delivered through the queue.
    #[command(subcommand)]
    Plugin(PluginCmd),
    /// Operators: people and systems that call the operator API.
    #[command(subcommand)]
    Operator(OperatorCmd),
    /// Groups of operators, whose rights hold for every member.
    #[command(subcommand)]
    Group(GroupCmd),
    /// The audit log: every call, allowed or refused (filters and paging).
    Audit(AuditArgs),
    /// Connection profiles, kept in the user's config directory.
    #[command(subcommand)]
    Profile(ProfileCmd),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell).
    Completions { shell: clap_complete::Shell },
}

#[derive(Args, Default)]
pub struct ListArgs {
    #[arg(long)]
    pub site: Option<String>,
    #[arg(long)]
    pub model: Option<String>,
    /// halted, rebooting, running, waiting or idle.
    #[arg(long)]
    pub queue: Option<String>,
    /// Devices whose name contains this.
    #[arg(long)]
    pub search: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub offset: i32,
    #[arg(long, default_value_t = 10_000)]
    pub limit: i32,
}

/// The devices of one site a command is for.
#[derive(Args)]
pub struct Targets {
    #[arg(long)]
    pub site: String,
    /// Every device of this model (in that site).
    #[arg(long, conflicts_with = "devices")]
    pub model: Option<String>,
    /// Device names (or --model).
    pub devices: Vec<String>,
    /// Seconds the commands may wait for an offline device before they expire.
    #[arg(long, value_name = "SECONDS")]
    pub expires_in: Option<i64>,
}

#[derive(Args)]
pub struct Wait {
    /// Wait until every target's queue is done or halted, showing progress.
    #[arg(long)]
    pub wait: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 600, value_name = "SECONDS")]
    pub timeout: u64,
}

#[derive(Subcommand)]
pub enum DeviceCmd {
    /// List devices (as `outfit status`).
    List(ListArgs),
    /// A device: its versions, its queue, what its agent reported.
    Show { device: String },
    /// Register a device of a site, built to a model.
    Add {
        device: String,
        #[arg(long)]
        site: String,
        #[arg(long)]
        model: String,
    },
    /// A one-time enrolment token for a registered device (printed once).
    Token {
        device: String,
        #[arg(long)]
        site: String,
        /// Where the gateway pokes the agent (goes in its certificate).
        #[arg(long)]
        address: Option<String>,
        #[arg(long, value_name = "SECONDS")]
        expires_in: Option<i64>,
    },
    /// Revoke every certificate of a device: its next request is refused.
    Revoke { device: String },
    /// Enrolment requests waiting for approval.
    Requests,
    /// Approve a device's waiting enrolment request.
    Approve {
        device: String,
        /// The start of the key's fingerprint (as `outfit device requests` shows
        /// it), when several requests wait.
        #[arg(long)]
        fingerprint: Option<String>,
        #[arg(long)]
        address: Option<String>,
    },
    /// Reject a device's waiting enrolment request.
    Reject {
        device: String,
        #[arg(long)]
        fingerprint: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum QueueCmd {
    /// The device's commands in order with their state and result.
    Show { device: String },
    /// Run the failed (or timed-out) command of a halted queue again, then go on.
    Retry { device: String },
    /// Close the failed (or timed-out) command as skipped and go on.
    Skip { device: String },
    /// Cancel every command not yet handed out (and a failed one).
    Abort { device: String },
    /// Append a reboot; the queue waits until the device is back.
    Reboot {
        device: String,
        #[arg(long, value_name = "SECONDS")]
        expires_in: Option<i64>,
    },
}

#[derive(Subcommand)]
pub enum PackageCmd {
    /// Upload package files (streamed, checked by their sha256).
    Upload {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// The packages the repository holds.
    List,
}

#[derive(Subcommand)]
pub enum ModelCmd {
    /// Import a model file (TOML): its packages are uploaded, then its content
    /// becomes the model's new version (unchanged content adds none).
    Import {
        file: PathBuf,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// The models and their current versions.
    List {
        #[arg(long)]
        site: Option<String>,
    },
    /// A model's version (the current one unless --version), role by role.
    Show {
        model: String,
        #[arg(long)]
        site: String,
        #[arg(long)]
        version: Option<i32>,
    },
    /// Set one parameter of a component in a model's role: a new model version.
    SetParameter {
        #[arg(long)]
        site: String,
        #[arg(long)]
        model: String,
        #[arg(long)]
        category: String,
        #[arg(long)]
        component: String,
        /// NAME=VALUE
        assignment: String,
        #[command(flatten)]
        change: ChangeArgs,
    },
    /// Write a model version (the current one unless --version) as files:
    /// DIR/model.toml (packages by sha256) and DIR/templates/; `model import`
    /// of it adds no version.
    Export {
        model: String,
        #[arg(long)]
        site: String,
        #[arg(long)]
        version: Option<i32>,
        /// A directory that does not exist yet, or is empty.
        #[arg(long)]
        out: PathBuf,
    },
    /// Every version of a model: who made it, when and why.
    History {
        model: String,
        #[arg(long)]
        site: String,
    },
    /// Edits of a site's models made in another data centre than the site's
    /// home, and whether the home accepted them (newest first).
    Proposals {
        /// Only this model's.
        model: Option<String>,
        #[arg(long)]
        site: String,
    },
    /// What changed from version FROM to version TO (the current one if not given).
    Diff {
        model: String,
        #[arg(long)]
        site: String,
        from: i32,
        to: Option<i32>,
    },
    /// Make an earlier version current again (as a new version that restores it).
    Rollback {
        model: String,
        #[arg(long)]
        site: String,
        version: i32,
        #[command(flatten)]
        change: ChangeArgs,
    },
}

/// Why a model changes, and the rollout that follows the new version.
#[derive(Args)]
pub struct ChangeArgs {
    /// Why (kept with the version).
    #[arg(long)]
    pub reason: Option<String>,
    /// What follows the new version: a rollout started at once, one prepared
    /// (start it with `outfit rollout resume ID`), or none.
    #[arg(long, value_parser = ["start", "prepare", "none"], default_value = "start")]
    pub rollout: String,
    #[command(flatten)]
    pub policy: PolicyArgs,
}

/// How a rollout goes.
#[derive(Args, Default)]
pub struct PolicyArgs {
    /// Devices of the first stage [default: 1].
    #[arg(long)]
    pub canary: Option<i32>,
    /// Devices per later stage [default: a quarter of the devices].
    #[arg(long)]
    pub batch: Option<i32>,
    /// Halt when more devices than this failed [default: 0].
    #[arg(long)]
    pub max_failures: Option<i32>,
    /// Or when more than this percent of the devices started failed.
    #[arg(long)]
    pub max_failure_percent: Option<i32>,
    /// Offline devices' commands expire this many seconds after their stage
    /// starts [default: they wait].
    #[arg(long, value_name = "SECONDS")]
    pub expire_after: Option<i64>,
}

#[derive(Subcommand)]
pub enum CategoryCmd {
    /// The role categories, by rank (install order).
    List,
    /// Add a role category ranked right after --after (last if not given).
    Add {
        name: String,
        #[arg(long)]
        after: Option<String>,
        /// How often its software changes, in words.
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Subcommand)]
pub enum InventoryCmd {
    /// A device's latest inventory and its reports' history.
    Show { device: String },
    /// Ask the targets for an inventory now.
    Request {
        #[command(flatten)]
        targets: Targets,
        #[command(flatten)]
        wait: Wait,
    },
}

#[derive(Subcommand)]
pub enum DriftCmd {
    /// Drift, newest first (open only unless --history).
    List {
        #[arg(long)]
        site: Option<String>,
        #[arg(long)]
        model: Option<String>,
        #[arg(long)]
        device: Option<String>,
        /// Resolved drift too.
        #[arg(long)]
        history: bool,
        #[arg(long, default_value_t = 1000)]
        limit: i32,
    },
    /// Queue the commands that put a device back to its model version, then an inventory.
    Remediate {
        device: String,
        #[command(flatten)]
        wait: Wait,
    },
    /// Adopt a changed file into the model as a new version (rolled out by default).
    Promote {
        drift: i64,
        #[command(flatten)]
        change: ChangeArgs,
    },
}

#[derive(Subcommand)]
pub enum RolloutCmd {
    /// The dry run: every device's exact commands to the version; changes nothing.
    Plan {
        model: String,
        #[arg(long)]
        site: String,
        /// The target (the current version if not given).
        #[arg(long)]
        version: Option<i32>,
    },
    /// Roll a version out to every device of the model: a canary, then batches.
    Start {
        model: String,
        #[arg(long)]
        site: String,
        #[arg(long)]
        version: Option<i32>,
        /// Only prepare it (start it with `outfit rollout resume ID`).
        #[arg(long)]
        prepare: bool,
        #[command(flatten)]
        policy: PolicyArgs,
        #[command(flatten)]
        wait: Wait,
    },
    /// The rollouts of a site, newest first.
    List {
        #[arg(long)]
        site: String,
        #[arg(long)]
        model: Option<String>,
    },
    /// A rollout and each of its devices.
    Show { rollout: i64 },
    /// Start no new stage until resumed.
    Pause { rollout: i64 },
    /// Go on with a paused, halted (its failed commands run again) or prepared rollout.
    Resume {
        rollout: i64,
        #[command(flatten)]
        wait: Wait,
    },
    /// Stop a rollout: its commands not yet handed out are aborted.
    Abort { rollout: i64 },
}

#[derive(Subcommand)]
pub enum ScriptCmd {
    /// Import a script file (TOML): its packages are uploaded first.
    Import { file: PathBuf },
    /// The stored scripts.
    List,
    /// Append a script's steps to the targets' queues (all or none) and poke them.
    Run {
        script: String,
        #[command(flatten)]
        targets: Targets,
        #[command(flatten)]
        wait: Wait,
    },
}

#[derive(Subcommand)]
pub enum PluginCmd {
    /// Pack and upload a signed bundle directory (from `outfit-plugin sign`)
    /// and queue its installation on the targets.
    Install {
        bundle: PathBuf,
        #[command(flatten)]
        targets: Targets,
    },
    /// Switch a plug-in back to the version it replaced, on the targets.
    Rollback {
        plugin: String,
        #[command(flatten)]
        targets: Targets,
    },
}

#[derive(Subcommand)]
pub enum OperatorCmd {
    /// Add an operator, or set a new password (OUTFIT_NEW_PASSWORD or a prompt).
    Add { operator: String },
    /// A client certificate for an operator: writes NAME.pem and NAME.key (0600) into --out.
    Cert {
        operator: String,
        #[arg(long)]
        out: PathBuf,
        #[arg(long)]
        days: Option<i32>,
    },
    /// Revoke every client certificate of an operator.
    Revoke { operator: String },
    /// Grant an operator a right.
    Grant {
        operator: String,
        #[command(flatten)]
        right: RightArgs,
    },
}

#[derive(Subcommand)]
pub enum GroupCmd {
    /// Add a group of operators.
    Add { group: String },
    /// Make an operator a member of a group.
    Join { group: String, operator: String },
    /// Grant a group a right, which holds for each member.
    Grant {
        group: String,
        #[command(flatten)]
        right: RightArgs,
    },
}

/// A right: an action on a site's role categories (no --site: every site; no
/// --category: every category).
#[derive(Args)]
pub struct RightArgs {
    #[arg(long, value_parser = ["read", "change", "deploy", "admin"])]
    pub action: String,
    #[arg(long)]
    pub site: Option<String>,
    #[arg(long)]
    pub category: Option<String>,
}

#[derive(Args)]
pub struct AuditArgs {
    #[arg(long)]
    pub site: Option<String>,
    #[arg(long)]
    pub principal: Option<String>,
    /// The operation, e.g. Provision.
    #[arg(long)]
    pub action: Option<String>,
    #[arg(long, value_parser = ["allowed", "refused", "failed"])]
    pub outcome: Option<String>,
    #[arg(long, default_value_t = 0)]
    pub offset: i32,
    #[arg(long, default_value_t = 50)]
    pub limit: i32,
}

#[derive(Subcommand)]
pub enum ProfileCmd {
    /// Save (or update) a profile from the connection flags given.
    Set { name: String },
    /// List the profiles.
    List,
}
