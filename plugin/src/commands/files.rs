//! The files `-f` names: directories stand for their YAML and JSON files, `-` for stdin (once),
//! and the objects in them. Shared by `validate` and `policy test`.

use std::io::{self, Read as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};

use super::verdicts::admit::{Input, Unreadable};
use crate::template::documents;

/// The files to read: files as given, the YAML and JSON files of directories (sorted by name,
/// sub-directories only with `-R`), and `-` once at most.
pub fn expand(given: &[String], recursive: bool) -> anyhow::Result<Vec<String>> {
    let mut out = Vec::new();
    let mut stdin_seen = false;
    for f in given {
        if f == "-" {
            if stdin_seen {
                bail!("-f -: stdin can be read only once");
            }
            stdin_seen = true;
            out.push(f.clone());
            continue;
        }
        let path = Path::new(f);
        if path.is_dir() {
            collect_dir(path, recursive, &mut out).with_context(|| format!("-f {f}: cannot read the directory"))?;
        } else {
            out.push(f.clone());
        }
    }
    Ok(out)
}

fn collect_dir(dir: &Path, recursive: bool, out: &mut Vec<String>) -> io::Result<()> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<_, _>>()?;
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if recursive {
                collect_dir(&path, recursive, out)?;
            }
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| ["yaml", "yml", "json"].contains(&e))
        {
            out.push(path.display().to_string());
        }
    }
    Ok(())
}

/// How a file is named in messages: `stdin` for `-`.
pub fn shown(file: &str) -> String {
    if file == "-" {
        "stdin".to_owned()
    } else {
        file.to_owned()
    }
}

/// The text of `file`, or of stdin for `-`.
pub fn read_text(file: &str) -> io::Result<String> {
    if file == "-" {
        let mut text = String::new();
        io::stdin().read_to_string(&mut text).map(|_| text)
    } else {
        std::fs::read_to_string(file)
    }
}

/// The objects in `file`, each with its place, and what could not be read or parsed.
pub fn read_objects(file: &str) -> (Vec<Input>, Vec<Unreadable>) {
    let shown = shown(file);
    let text = match read_text(file) {
        Ok(t) => t,
        Err(e) => {
            let message = format!("cannot read: {e}");
            return (Vec::new(), vec![Unreadable { file: shown, message }]);
        }
    };
    let (docs, errors) = documents::parse_stream(&text);
    let inputs = docs
        .into_iter()
        .map(|doc| Input {
            file: Some(shown.clone()),
            place: Some(doc.place()),
            value: doc.value,
        })
        .collect();
    let unreadable = errors
        .into_iter()
        .map(|e| Unreadable {
            file: shown.clone(),
            message: e.to_string(),
        })
        .collect();
    (inputs, unreadable)
}
