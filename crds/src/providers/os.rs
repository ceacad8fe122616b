//! The operating systems machine-controller provisions (`providerconfig.OperatingSystem`).

use std::fmt;

/// An `operatingSystem` of a machine's provider spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum OperatingSystem {
    Ubuntu,
    Flatcar,
    Rhel,
    Rockylinux,
    Amzn2,
}

impl OperatingSystem {
    pub const ALL: [OperatingSystem; 5] = [
        OperatingSystem::Ubuntu,
        OperatingSystem::Flatcar,
        OperatingSystem::Rhel,
        OperatingSystem::Rockylinux,
        OperatingSystem::Amzn2,
    ];

    /// machine-controller's name, the value of `operatingSystem`.
    pub fn name(self) -> &'static str {
        match self {
            OperatingSystem::Ubuntu => "ubuntu",
            OperatingSystem::Flatcar => "flatcar",
            OperatingSystem::Rhel => "rhel",
            OperatingSystem::Rockylinux => "rockylinux",
            OperatingSystem::Amzn2 => "amzn2",
        }
    }

    pub fn from_name(name: &str) -> Option<OperatingSystem> {
        OperatingSystem::ALL.into_iter().find(|os| os.name() == name)
    }
}

impl fmt::Display for OperatingSystem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for os in OperatingSystem::ALL {
            assert_eq!(OperatingSystem::from_name(os.name()), Some(os));
            assert_eq!(os.to_string(), os.name());
        }
        assert_eq!(OperatingSystem::from_name("coreos"), None);
        assert_eq!(OperatingSystem::from_name("Ubuntu"), None);
    }
}
