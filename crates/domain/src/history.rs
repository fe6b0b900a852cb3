//! Record history (timelines): what happened to a business record (a unit, and later an
//! enterprise, appeal, rating, finding), told to the people who work with it. It is not the
//! audit log: it names no client addresses and no personal data, and what one viewer reads is
//! filtered here (SPEC "Cross-cutting": no identities, no staff names for the submitter).

use std::fmt;
use std::str::FromStr;

/// Who may read an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Audience {
    /// Everyone who may read the record, the submitter or enterprise it concerns included.
    Public,
    /// Staff only (working notes, internal routing).
    Internal,
}

impl Audience {
    /// The name used in tables and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Public => "public",
            Audience::Internal => "internal",
        }
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Audience {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "public" => Ok(Audience::Public),
            "internal" => Ok(Audience::Internal),
            other => Err(format!("unknown audience {other:?}")),
        }
    }
}

/// Who is reading a timeline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reader {
    /// Staff of the district who may read the record: every entry, with who acted.
    Staff,
    /// The submitter or enterprise the record concerns: public entries only, and never the
    /// name of the person who acted (only their unit).
    Submitter,
}

/// What a reader is told of one entry: whether they see it at all, and whether the actor's
/// name is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shown {
    /// The entry appears.
    pub entry: bool,
    /// The acting person's name appears with it.
    pub actor: bool,
}

/// Decides what `reader` is told of an entry meant for `audience`.
pub fn shown(reader: Reader, audience: Audience) -> Shown {
    match (reader, audience) {
        (Reader::Staff, _) => Shown {
            entry: true,
            actor: true,
        },
        (Reader::Submitter, Audience::Public) => Shown {
            entry: true,
            actor: false,
        },
        (Reader::Submitter, Audience::Internal) => Shown {
            entry: false,
            actor: false,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reader_and_audience_has_the_written_outcome() {
        let table = [
            (Reader::Staff, Audience::Public, true, true),
            (Reader::Staff, Audience::Internal, true, true),
            (Reader::Submitter, Audience::Public, true, false),
            (Reader::Submitter, Audience::Internal, false, false),
        ];
        for (reader, audience, entry, actor) in table {
            assert_eq!(
                shown(reader, audience),
                Shown { entry, actor },
                "{reader:?} × {audience:?}"
            );
        }
    }

    #[test]
    fn audiences_round_trip() {
        for a in [Audience::Public, Audience::Internal] {
            assert_eq!(a.as_str().parse::<Audience>(), Ok(a));
        }
        assert!("everyone".parse::<Audience>().is_err());
    }
}
