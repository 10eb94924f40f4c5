//! The network plug-in (WIT v1): gives an interface a static IPv4 address or
//! DHCP (seed: "switch from a static network address to one which is
//! dynamically assigned"), in the way the device's OS keeps it:
//!
//! | device (detected from files under the root) | how |
//! |---|---|
//! | Debian with `/etc/network/interfaces` | ifupdown stanza in `/etc/network/interfaces.d/outfit-IF` |
//! | Debian without it | systemd-networkd `/etc/systemd/network/10-outfit-IF.network` |
//! | RHEL with NetworkManager | keyfile `/etc/NetworkManager/system-connections/outfit-IF.nmconnection`, mode 0600 |
//! | RHEL without it | `/etc/sysconfig/network-scripts/ifcfg-IF` |
//! | Windows | `netsh interface ipv4 set address` / `set dnsservers` |
//! | Solaris, illumos | `ipadm create-addr` on address object `IF/outfit`, `route -p add default` |
//!
//! Every change is planned against what the device holds now (file contents,
//! or `netsh … show config` / `ipadm show-addr`), so an interface already as
//! asked is left alone, and verified afterwards the same way.

wit_bindgen::generate!({
    path: "../../wit/outfit-plugin-1.0.0",
    world: "os-plugin",
});

use exports::outfit::plugin::plugin::Guest;
use outfit::plugin::host;
use outfit::plugin::types::{
    Addressing, Change, CommandOutput, Fact, InstalledPackage, InterfaceConfig, LogLevel, PluginInfo, StaticAddress,
    Target,
};
use std::net::Ipv4Addr;

struct Network;

/// How the device keeps its network configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavour {
    Ifupdown,
    Networkd,
    NetworkManager,
    Ifcfg,
    Netsh,
    Ipadm,
}

impl Flavour {
    fn name(self) -> &'static str {
        match self {
            Self::Ifupdown => "ifupdown",
            Self::Networkd => "systemd-networkd",
            Self::NetworkManager => "networkmanager-keyfile",
            Self::Ifcfg => "ifcfg",
            Self::Netsh => "netsh",
            Self::Ipadm => "ipadm",
        }
    }

    fn family(self) -> &'static str {
        match self {
            Self::Ifupdown | Self::Networkd => "debian",
            Self::NetworkManager | Self::Ifcfg => "rhel",
            Self::Netsh => "windows",
            Self::Ipadm => "solaris",
        }
    }
}

fn exists(path: &str) -> bool {
    host::read_file(path).is_ok()
}

fn detect() -> Result<Flavour, String> {
    if exists("/Windows/System32/drivers/etc/hosts") {
        Ok(Flavour::Netsh)
    } else if exists("/etc/release") {
        Ok(Flavour::Ipadm)
    } else if exists("/etc/redhat-release") {
        Ok(if exists("/etc/NetworkManager/NetworkManager.conf") { Flavour::NetworkManager } else { Flavour::Ifcfg })
    } else if exists("/etc/debian_version") {
        Ok(if exists("/etc/network/interfaces") { Flavour::Ifupdown } else { Flavour::Networkd })
    } else {
        Err("cannot tell how this device keeps its network configuration (no /etc/debian_version, \
             /etc/redhat-release, /etc/release or Windows directory under the root)"
            .into())
    }
}

/// A checked static configuration: address, prefix length, gateway, DNS.
struct Fixed {
    address: Ipv4Addr,
    prefix: u8,
    gateway: Option<Ipv4Addr>,
    dns: Vec<Ipv4Addr>,
}

impl Fixed {
    fn parse(s: &StaticAddress) -> Result<Self, String> {
        let (address, prefix) =
            s.address.split_once('/').ok_or_else(|| format!("`{}` is not ADDRESS/PREFIX", s.address))?;
        let address: Ipv4Addr = address.parse().map_err(|_| format!("`{address}` is not an IPv4 address"))?;
        let prefix: u8 = prefix
            .parse()
            .ok()
            .filter(|p| (1..=32).contains(p))
            .ok_or_else(|| format!("`{prefix}` is not a prefix length (1–32)"))?;
        let ip = |text: &String| text.parse::<Ipv4Addr>().map_err(|_| format!("`{text}` is not an IPv4 address"));
        let gateway = s.gateway.as_ref().map(ip).transpose()?;
        let dns = s.dns.iter().map(ip).collect::<Result<_, _>>()?;
        Ok(Self { address, prefix, gateway, dns })
    }

    fn cidr(&self) -> String {
        format!("{}/{}", self.address, self.prefix)
    }

    fn mask(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0))
    }
}

/// What was asked, checked.
enum Wanted {
    Dhcp,
    Fixed(Fixed),
}

fn wanted(config: &InterfaceConfig) -> Result<Wanted, String> {
    let name = &config.name;
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('-')
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b" ._-".contains(&b));
    if !ok {
        return Err(format!("`{name}` is not an interface name"));
    }
    Ok(match &config.addressing {
        Addressing::Dhcp => Wanted::Dhcp,
        Addressing::Fixed(s) => Wanted::Fixed(Fixed::parse(s)?),
    })
}

/// The file a file-based flavour keeps, with the text it should hold (and its mode).
fn file_for(flavour: Flavour, name: &str, wanted: &Wanted) -> Option<(String, String, Option<u32>)> {
    let head = "# Written by Outfit from the device's model; a local edit is drift.\n";
    let file = match flavour {
        Flavour::Ifupdown => {
            let body = match wanted {
                Wanted::Dhcp => format!("auto {name}\niface {name} inet dhcp\n"),
                Wanted::Fixed(f) => {
                    let mut body = format!("auto {name}\niface {name} inet static\n    address {}\n", f.cidr());
                    if let Some(g) = f.gateway {
                        body.push_str(&format!("    gateway {g}\n"));
                    }
                    if !f.dns.is_empty() {
                        let dns: Vec<String> = f.dns.iter().map(|d| d.to_string()).collect();
                        body.push_str(&format!("    dns-nameservers {}\n", dns.join(" ")));
                    }
                    body
                }
            };
            (format!("/etc/network/interfaces.d/outfit-{name}"), format!("{head}{body}"), None)
        }
        Flavour::Networkd => {
            let mut body = format!("[Match]\nName={name}\n\n[Network]\n");
            match wanted {
                Wanted::Dhcp => body.push_str("DHCP=ipv4\n"),
                Wanted::Fixed(f) => {
                    body.push_str(&format!("Address={}\n", f.cidr()));
                    if let Some(g) = f.gateway {
                        body.push_str(&format!("Gateway={g}\n"));
                    }
                    for d in &f.dns {
                        body.push_str(&format!("DNS={d}\n"));
                    }
                }
            }
            (format!("/etc/systemd/network/10-outfit-{name}.network"), format!("{head}{body}"), None)
        }
        Flavour::NetworkManager => {
            let mut body = format!("[connection]\nid=outfit-{name}\ntype=ethernet\ninterface-name={name}\n\n[ipv4]\n");
            match wanted {
                Wanted::Dhcp => body.push_str("method=auto\n"),
                Wanted::Fixed(f) => {
                    body.push_str("method=manual\n");
                    match f.gateway {
                        Some(g) => body.push_str(&format!("address1={},{g}\n", f.cidr())),
                        None => body.push_str(&format!("address1={}\n", f.cidr())),
                    }
                    if !f.dns.is_empty() {
                        let dns: String = f.dns.iter().map(|d| format!("{d};")).collect();
                        body.push_str(&format!("dns={dns}\n"));
                    }
                }
            }
            // NetworkManager ignores a keyfile others can read.
            (
                format!("/etc/NetworkManager/system-connections/outfit-{name}.nmconnection"),
                format!("{head}{body}"),
                Some(0o600),
            )
        }
        Flavour::Ifcfg => {
            let mut body = format!("DEVICE={name}\nONBOOT=yes\n");
            match wanted {
                Wanted::Dhcp => body.push_str("BOOTPROTO=dhcp\n"),
                Wanted::Fixed(f) => {
                    body.push_str(&format!("BOOTPROTO=none\nIPADDR={}\nPREFIX={}\n", f.address, f.prefix));
                    if let Some(g) = f.gateway {
                        body.push_str(&format!("GATEWAY={g}\n"));
                    }
                    for (i, d) in f.dns.iter().enumerate() {
                        body.push_str(&format!("DNS{}={d}\n", i + 1));
                    }
                }
            }
            (format!("/etc/sysconfig/network-scripts/ifcfg-{name}"), format!("{head}{body}"), None)
        }
        Flavour::Netsh | Flavour::Ipadm => return None,
    };
    Some(file)
}

fn run(argv: &[String]) -> Result<CommandOutput, String> {
    host::log(LogLevel::Debug, &format!("run {}", argv.join(" ")));
    host::run(argv)
}

fn words(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

/// The commands that make a command-based flavour's interface as asked.
fn commands_for(flavour: Flavour, name: &str, wanted: &Wanted) -> Vec<Vec<String>> {
    let iface = format!("name={name}");
    match (flavour, wanted) {
        (Flavour::Netsh, Wanted::Dhcp) => vec![
            words(&["netsh", "interface", "ipv4", "set", "address", &iface, "source=dhcp"]),
            words(&["netsh", "interface", "ipv4", "set", "dnsservers", &iface, "source=dhcp"]),
        ],
        (Flavour::Netsh, Wanted::Fixed(f)) => {
            let gateway = f.gateway.map_or("gateway=none".to_owned(), |g| format!("gateway={g}"));
            let (address, mask) = (format!("address={}", f.address), format!("mask={}", f.mask()));
            let mut commands = vec![words(&[
                "netsh",
                "interface",
                "ipv4",
                "set",
                "address",
                &iface,
                "source=static",
                &address,
                &mask,
                &gateway,
            ])];
            match f.dns.split_first() {
                None => commands.push(words(&[
                    "netsh",
                    "interface",
                    "ipv4",
                    "set",
                    "dnsservers",
                    &iface,
                    "source=static",
                    "address=none",
                ])),
                Some((first, rest)) => {
                    let first = format!("address={first}");
                    commands.push(words(&[
                        "netsh",
                        "interface",
                        "ipv4",
                        "set",
                        "dnsservers",
                        &iface,
                        "source=static",
                        &first,
                        "register=primary",
                    ]));
                    for (i, d) in rest.iter().enumerate() {
                        let (d, index) = (format!("address={d}"), format!("index={}", i + 2));
                        commands.push(words(&["netsh", "interface", "ipv4", "add", "dnsservers", &iface, &d, &index]));
                    }
                }
            }
            commands
        }
        (Flavour::Ipadm, wanted) => {
            let object = format!("{name}/outfit");
            let mut commands = vec![words(&["ipadm", "delete-addr", &object])];
            match wanted {
                Wanted::Dhcp => commands.push(words(&["ipadm", "create-addr", "-T", "dhcp", &object])),
                Wanted::Fixed(f) => {
                    commands.push(words(&["ipadm", "create-addr", "-T", "static", "-a", &f.cidr(), &object]));
                    if let Some(g) = f.gateway {
                        commands.push(words(&["route", "-p", "add", "default", &g.to_string()]));
                    }
                }
            }
            commands
        }
        _ => Vec::new(),
    }
}

/// Whether a command-based flavour's interface is already as asked.
fn holds(flavour: Flavour, name: &str, wanted: &Wanted) -> Result<bool, String> {
    match flavour {
        Flavour::Netsh => {
            let out = run(&words(&["netsh", "interface", "ipv4", "show", "config", &format!("name={name}")]))?;
            if out.status != 0 {
                return Err(format!("netsh show config exited with status {}: {}", out.status, out.stdout.trim()));
            }
            let field = |label: &str| {
                out.stdout.lines().find_map(|l| l.trim().strip_prefix(label).map(|v| v.trim().to_owned()))
            };
            let dhcp = field("DHCP enabled:").is_some_and(|v| v.eq_ignore_ascii_case("yes"));
            Ok(match wanted {
                Wanted::Dhcp => dhcp,
                Wanted::Fixed(f) => {
                    let mask = field("Subnet Prefix:").is_some_and(|v| v.contains(&format!("(mask {})", f.mask())));
                    !dhcp && field("IP Address:").as_deref() == Some(f.address.to_string().as_str()) && mask
                }
            })
        }
        Flavour::Ipadm => {
            let object = format!("{name}/outfit");
            let out = run(&words(&["ipadm", "show-addr", "-p", "-o", "type,addr", &object]))?;
            if out.status != 0 {
                return Ok(false); // no such address object yet
            }
            let line = out.stdout.trim();
            Ok(match wanted {
                Wanted::Dhcp => line.starts_with("dhcp:"),
                Wanted::Fixed(f) => line == format!("static:{}", f.cidr()),
            })
        }
        _ => Ok(false),
    }
}

/// The Solaris resolver file, when static DNS servers are asked for.
fn resolv_conf(flavour: Flavour, wanted: &Wanted) -> Option<String> {
    match (flavour, wanted) {
        (Flavour::Ipadm, Wanted::Fixed(f)) if !f.dns.is_empty() => {
            Some(f.dns.iter().map(|d| format!("nameserver {d}\n")).collect())
        }
        _ => None,
    }
}

fn current(path: &str) -> Option<String> {
    host::read_file(path).ok().map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// What `apply` would do for `config`, empty when the device already holds it.
fn steps(config: &InterfaceConfig) -> Result<(Flavour, Wanted, Vec<String>), String> {
    let flavour = detect()?;
    let wanted = wanted(config)?;
    let mut steps = Vec::new();
    if let Some((path, text, _)) = file_for(flavour, &config.name, &wanted) {
        if current(&path).as_deref() != Some(text.as_str()) {
            steps.push(format!("write {path}"));
        }
    } else if !holds(flavour, &config.name, &wanted)? {
        steps.extend(commands_for(flavour, &config.name, &wanted).iter().map(|argv| format!("run {}", argv.join(" "))));
    }
    if let Some(text) = resolv_conf(flavour, &wanted)
        && current("/etc/resolv.conf").as_deref() != Some(text.as_str())
    {
        steps.push("write /etc/resolv.conf".into());
    }
    Ok((flavour, wanted, steps))
}

fn network(change: &Change) -> Result<&InterfaceConfig, String> {
    match change {
        Change::Network(config) => Ok(config),
        _ => Err("the network plug-in only configures network interfaces".into()),
    }
}

fn describe_wanted(wanted: &Wanted) -> String {
    match wanted {
        Wanted::Dhcp => "DHCP".into(),
        Wanted::Fixed(f) => format!("static {}", f.cidr()),
    }
}

impl Guest for Network {
    fn describe() -> PluginInfo {
        PluginInfo {
            name: "network".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            os_families: vec!["debian".into(), "rhel".into(), "windows".into(), "solaris".into()],
            package_formats: Vec::new(),
            changes: vec!["network".into()],
        }
    }

    fn plan(_target: Target, change: Change) -> Result<Vec<String>, String> {
        Ok(steps(network(&change)?)?.2)
    }

    fn apply(_target: Target, change: Change) -> Result<String, String> {
        let config = network(&change)?;
        let (flavour, wanted, _) = steps(config)?;
        if let Some((path, text, mode)) = file_for(flavour, &config.name, &wanted) {
            host::write_file(&path, text.as_bytes())?;
            if let Some(mode) = mode {
                host::set_mode(&path, mode)?;
            }
        } else {
            for (i, argv) in commands_for(flavour, &config.name, &wanted).iter().enumerate() {
                let out = run(argv)?;
                // Deleting an address object that does not exist yet is fine.
                let absent_ok = flavour == Flavour::Ipadm && i == 0;
                if out.status != 0 && !absent_ok {
                    let detail = if out.stderr.trim().is_empty() { out.stdout.trim() } else { out.stderr.trim() };
                    return Err(format!("{} exited with status {}: {detail}", argv.join(" "), out.status));
                }
            }
        }
        if let Some(text) = resolv_conf(flavour, &wanted) {
            host::write_file("/etc/resolv.conf", text.as_bytes())?;
        }
        Ok(format!("{} set to {} ({})", config.name, describe_wanted(&wanted), flavour.name()))
    }

    fn verify(_target: Target, change: Change) -> Result<(), String> {
        let remaining = steps(network(&change)?)?.2;
        if remaining.is_empty() { Ok(()) } else { Err(format!("still to do: {}", remaining.join("; "))) }
    }

    fn query(_target: Target) -> Result<Vec<InstalledPackage>, String> {
        Ok(Vec::new())
    }

    fn inventory(_target: Target) -> Result<Vec<Fact>, String> {
        let flavour = detect()?;
        Ok(vec![
            Fact { name: "os.family".into(), value: flavour.family().into() },
            Fact { name: "network.backend".into(), value: flavour.name().into() },
        ])
    }
}

export!(Network);
