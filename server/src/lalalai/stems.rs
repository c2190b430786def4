//! Which stems a user can ask lalal.ai for, which of its endpoints makes them, and what we call the files
//! it returns.

use crate::{Error, Result};

/// lalal.ai's stem names, with the page's labels. The multistem endpoint takes any of the first six
/// together; the last three are made one at a time, by its `phoenix` model only.
pub const STEMS: [(&str, &str); 9] = [
    ("vocals", "Vocals"),
    ("drum", "Drums"),
    ("bass", "Bass"),
    ("piano", "Piano"),
    ("electric_guitar", "Electric guitar"),
    ("acoustic_guitar", "Acoustic guitar"),
    ("synthesizer", "Synthesizer"),
    ("strings", "Strings"),
    ("wind", "Wind"),
];
const MULTISTEM: usize = 6;

/// A split request: one stem and the rest, or several stems and the rest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Split {
    One {
        stem: String,
        splitter: Option<&'static str>,
    },
    Many {
        stems: Vec<String>,
    },
}

impl Split {
    /// The request for `stems`, or why there is none.
    pub fn of(stems: &[String]) -> Result<Self> {
        let known = |stem: &String| STEMS.iter().position(|(name, _)| name == stem);
        let positions: Vec<usize> = stems
            .iter()
            .map(|stem| {
                known(stem).ok_or_else(|| Error::Invalid(format!("lalal.ai makes no “{stem}” stem.")))
            })
            .collect::<Result<_>>()?;
        match positions.as_slice() {
            [] => Err(Error::Invalid(
                "Choose at least one stem for lalal.ai to make.".into(),
            )),
            [one] => Ok(Self::One {
                stem: stems[0].clone(),
                splitter: (*one >= MULTISTEM).then_some("phoenix"),
            }),
            many if many.iter().any(|&at| at >= MULTISTEM) => Err(Error::Invalid(
                "Synthesizer, strings and wind are made one at a time: choose one of them alone.".into(),
            )),
            many => {
                let mut unique = many.to_vec();
                unique.sort_unstable();
                unique.dedup();
                Ok(Self::Many {
                    stems: unique.iter().map(|&at| STEMS[at].0.to_owned()).collect(),
                })
            }
        }
    }

    /// The stems asked for, in lalal.ai's order, each once.
    pub fn stems(&self) -> Vec<String> {
        match self {
            Self::One { stem, .. } => vec![stem.clone()],
            Self::Many { stems } => stems.clone(),
        }
    }

    /// How many stems lalal.ai charges for: each costs the track's length in minutes.
    pub fn charged_stems(&self) -> usize {
        self.stems().len()
    }
}

/// Our name for a returned file: the stems as the local models name them where they overlap, and the
/// remainder (`back`) as `other`, everything but what was asked for.
pub fn stem_type(kind: &str, label: &str) -> Option<String> {
    if kind == "back" {
        return Some("other".into());
    }
    let name = match label {
        "drum" => "drums",
        label => label,
    };
    // What the `stems` table accepts; anything else lalal.ai may add is not ours to store.
    let valid = name.len() >= 2
        && name.len() <= 32
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c == '_');
    valid.then(|| name.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(stems: &[&str]) -> Vec<String> {
        stems.iter().map(|&stem| stem.to_owned()).collect()
    }

    #[test]
    fn one_stem_uses_the_stem_separator_and_several_the_multistem_endpoint() {
        assert_eq!(
            Split::of(&names(&["vocals"])).expect("one"),
            Split::One {
                stem: "vocals".into(),
                splitter: None
            }
        );
        assert_eq!(
            Split::of(&names(&["wind"])).expect("one"),
            Split::One {
                stem: "wind".into(),
                splitter: Some("phoenix")
            }
        );
        let many = Split::of(&names(&["bass", "vocals", "bass", "drum"])).expect("many");
        assert_eq!(
            many,
            Split::Many {
                stems: names(&["vocals", "drum", "bass"])
            }
        );
        assert_eq!(many.charged_stems(), 3);
        assert!(Split::of(&names(&["vocals", "strings"])).is_err());
        assert!(Split::of(&names(&["kazoo"])).is_err());
        assert!(Split::of(&[]).is_err());
    }

    #[test]
    fn returned_files_get_our_stem_names() {
        assert_eq!(stem_type("stem", "drum").as_deref(), Some("drums"));
        assert_eq!(
            stem_type("stem", "electric_guitar").as_deref(),
            Some("electric_guitar")
        );
        assert_eq!(stem_type("back", "no_multistem").as_deref(), Some("other"));
        assert_eq!(stem_type("back", "no_vocals").as_deref(), Some("other"));
        assert_eq!(stem_type("stem", "vocals@0"), None);
    }
}
