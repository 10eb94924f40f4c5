//! A TCP proxy the test controls, placed between an agent and its gateway. It
//! never looks inside the (TLS) bytes; it decides per connection whether to
//! forward it now, hold it, or drop it, and can be re-pointed at a restarted
//! gateway. This is how a test stops the world at an exact exchange.

use std::io::Read;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug)]
struct State {
    /// Gateways to forward to, in turn (one connection each).
    targets: Vec<SocketAddr>,
    turn: usize,
    /// How many more connections may pass; `None` = all.
    allowance: Option<usize>,
    held: Vec<TcpStream>,
    accepted: usize,
}

#[derive(Debug, Clone)]
pub struct Proxy {
    pub addr: SocketAddr,
    state: Arc<(Mutex<State>, Condvar)>,
}

fn pipe(mut from: TcpStream, mut to: TcpStream) {
    std::thread::spawn(move || {
        let _ = std::io::copy(&mut from, &mut to);
        let _ = to.shutdown(Shutdown::Write);
    });
}

impl State {
    fn next_target(&mut self) -> SocketAddr {
        self.turn += 1;
        self.targets[self.turn % self.targets.len()]
    }
}

fn forward(client: TcpStream, target: SocketAddr) {
    match TcpStream::connect(target) {
        Ok(server) => {
            pipe(client.try_clone().unwrap(), server.try_clone().unwrap());
            pipe(server, client);
        }
        Err(_) => drop(client),
    }
}

impl Proxy {
    pub fn start(target: SocketAddr) -> Self {
        Self::round_robin(vec![target])
    }

    /// Forwards each new connection to the next of `targets` in turn.
    pub fn round_robin(targets: Vec<SocketAddr>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new((
            Mutex::new(State { targets, turn: 0, allowance: None, held: Vec::new(), accepted: 0 }),
            Condvar::new(),
        ));
        let shared = state.clone();
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let (lock, changed) = &*shared;
                let mut s = lock.lock().unwrap();
                s.accepted += 1;
                match s.allowance {
                    None => forward(client, s.next_target()),
                    Some(0) => s.held.push(client),
                    Some(n) => {
                        s.allowance = Some(n - 1);
                        forward(client, s.next_target());
                    }
                }
                changed.notify_all();
            }
        });
        Self { addr, state }
    }

    /// From now on, hold every new connection until told otherwise.
    pub fn hold(&self) {
        self.state.0.lock().unwrap().allowance = Some(0);
    }

    /// Forward `n` connections (held ones first, oldest first).
    pub fn release(&self, n: usize) {
        let mut s = self.state.0.lock().unwrap();
        let mut n = n;
        while n > 0 && !s.held.is_empty() {
            let client = s.held.remove(0);
            let target = s.next_target();
            forward(client, target);
            n -= 1;
        }
        s.allowance = Some(s.allowance.unwrap_or(0) + n);
    }

    /// Forward everything from now on, held connections included.
    pub fn pass(&self) {
        let mut s = self.state.0.lock().unwrap();
        s.allowance = None;
        for client in std::mem::take(&mut s.held) {
            let target = s.next_target();
            forward(client, target);
        }
    }

    /// Closes the held connections without forwarding a byte.
    pub fn drop_held(&self) -> usize {
        let mut s = self.state.0.lock().unwrap();
        let held = std::mem::take(&mut s.held);
        for mut c in held.iter() {
            let _ = c.shutdown(Shutdown::Both);
            let _ = (&mut c).read(&mut [0u8; 0]);
        }
        held.len()
    }

    pub fn retarget(&self, target: SocketAddr) {
        self.retarget_all(vec![target]);
    }

    /// New connections go to `targets` in turn from now on.
    pub fn retarget_all(&self, targets: Vec<SocketAddr>) {
        self.state.0.lock().unwrap().targets = targets;
    }

    /// Waits until `n` connections are being held.
    pub fn wait_held(&self, n: usize, limit: Duration) -> bool {
        let (lock, changed) = &*self.state;
        let deadline = Instant::now() + limit;
        let mut s = lock.lock().unwrap();
        while s.held.len() < n {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            s = changed.wait_timeout(s, left).unwrap().0;
        }
        true
    }

    pub fn accepted(&self) -> usize {
        self.state.0.lock().unwrap().accepted
    }
}
