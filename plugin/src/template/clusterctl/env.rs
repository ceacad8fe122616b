//! The environment as clusterctl's config values see it: one variable at a time, and
//! `${VARIABLES}` in URLs and folders expanded from it.

use crate::template::envsubst::{Lookup, Template};

/// Reads one environment variable.
pub type Env<'a> = &'a dyn Fn(&str) -> Option<String>;

struct EnvLookup<'a>(Env<'a>);

impl Lookup for EnvLookup<'_> {
    fn value(&self, name: &str) -> Option<String> {
        (self.0)(name)
    }
}

/// Expands the `${VARIABLES}` of the environment in a config value (a URL or a folder), as
/// clusterctl does; a variable that is not set is an error rather than an empty string.
pub fn expand_env(text: &str, env: Env) -> Result<String, String> {
    let template = Template::parse(text).map_err(|e| e.to_string())?;
    template.expand(&EnvLookup(env)).map_err(|missing| {
        format!(
            "the environment variables {} are not set",
            missing.names.into_iter().collect::<Vec<_>>().join(", ")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expands_set_variables_and_names_unset_ones() {
        let env = |name: &str| (name == "REPO").then(|| "/srv/capi".to_owned());
        assert_eq!(expand_env("file://${REPO}/x", &env).unwrap(), "file:///srv/capi/x");
        assert_eq!(expand_env("/plain", &env).unwrap(), "/plain");
        let err = expand_env("${A}/${B}", &env).unwrap_err();
        assert_eq!(err, "the environment variables A, B are not set");
    }
}
