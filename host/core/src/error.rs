//! Setup errors: what stops a check from starting (an unreadable policy set,
//! a plugin that does not load, settings a plugin rejects). Failures *during*
//! a check are [`Diagnostic`](crate::Diagnostic)s in the report instead.

use std::fmt;

use crate::report::Location;

/// What kind of setup failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The policy set is unreadable or invalid.
    Policy,
    /// A plugin could not be read, compiled or instantiated, or broke the
    /// contract while loading.
    Plugin,
    /// A plugin imports something outside the sandbox's allowlist.
    ForbiddenImport,
    /// A component does not implement the `palisade:policy` world.
    WrongWorld,
    /// A plugin was built against a version of the `palisade:policy`
    /// contract this host does not speak.
    ContractVersion,
    /// A plugin rejected its settings.
    InvalidSettings,
    /// A plugin file's SHA-256 differs from the one the policy set pins.
    Checksum,
    /// The engine could not be configured.
    Engine,
    /// An argument names something the inputs do not have, or is malformed.
    Input,
}

/// A setup error, with the position in the policy set when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    location: Option<Location>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Error {
        Error {
            kind,
            message: message.into(),
            location: None,
        }
    }

    pub fn at(kind: ErrorKind, message: impl Into<String>, location: Location) -> Error {
        Error {
            kind,
            message: message.into(),
            location: Some(location),
        }
    }

    pub fn with_location(mut self, location: Option<Location>) -> Error {
        if self.location.is_none() {
            self.location = location;
        }
        self
    }

    /// What kind of setup failed.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The message, without the location.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Where in the policy set, when known.
    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.location {
            Some(loc) => write!(f, "{loc}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for Error {}
