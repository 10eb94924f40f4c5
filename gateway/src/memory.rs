//! The gateway's memory: how the process asks the kernel for it.

/// Transparent huge pages off for this process (and what it starts):
/// mimalloc asks for them, and a 2 MiB page stays resident while any small
/// object on it lives. 10,000 simulated agents and their rollouts: peak RSS
/// 158 MB with them, 107 MB without, for a live heap that peaked at 23 MB
/// (docs/benchmarks.md). RHEL's kernels give them even unasked. Elsewhere
/// than Linux it does nothing.
#[cfg_attr(
    target_os = "linux",
    expect(unsafe_code, reason = "prctl with integer arguments only sets a flag of this process")
)]
pub fn without_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE reads no memory of ours.
    #[cfg(target_os = "linux")]
    if unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) } != 0 {
        eprintln!("warning: could not switch transparent huge pages off: {}", std::io::Error::last_os_error());
    }
}
