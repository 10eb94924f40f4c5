//! Typed ids: a device's id cannot be passed where a command's is meant.

macro_rules! id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }
    )*};
}

id! {
    /// A registered device.
    DeviceId,
    /// One command of one device's queue; stable, so a repeated delivery is recognised.
    CommandId,
    /// A model (device type) of a site.
    ModelId,
    /// One immutable version of a model.
    ModelVersionId,
    /// A site (tenant).
    SiteId,
    /// An operator (a person or an enterprise system).
    OperatorId,
    /// A rollout of a model version.
    RolloutId,
}
