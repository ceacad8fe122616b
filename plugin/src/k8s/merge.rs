//! Merging a cluster's kubeconfig into the user's kubeconfig file, and writing kubeconfig files
//! atomically with mode 0600.
//!
//! The rule for names that already exist: an incoming entry replaces an existing entry of the
//! same name when both belong to the same API server (a cluster entry with the same `server`, a
//! context whose cluster has the same `server`, a user only used by contexts of that server), so
//! fetching a kubeconfig again refreshes its credentials. Otherwise the incoming entry is renamed
//! `<name>-<cluster>` (then `-2`, `-3`, …) and the references to it are rewritten, so no
//! existing entry is ever lost. Names held in the other files of a `KUBECONFIG` list count as
//! taken too (kubectl's merged view lets the first file win, so an entry of the same name would hide
//! theirs). Everything else in the file (preferences, extensions, fields this
//! plugin does not know) is kept as it was. Which file is merged into is `KubeconfigFiles::write_target`
//! (kubectl's rule). While a file is read, merged and written back it is locked the way kubectl
//! locks it (see `kube::lock`), so concurrent merges and `kubectl config` runs lose nothing.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde_yaml::{Mapping, Value};

use super::lock::{self, FileLock, LockError};

/// Why a merge or a write failed.
#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("{what} is not a kubeconfig: {detail}")]
    Parse { what: String, detail: String },
    #[error("the kubeconfig to merge has no contexts")]
    NoContext,
    #[error(transparent)]
    Lock(#[from] LockError),
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// What a merge did, for the message to the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MergeReport {
    /// The name of the merged context (after renaming).
    pub context: String,
    pub added: Vec<String>,
    pub replaced: Vec<String>,
    /// `(kind, from, to)` for each renamed entry.
    pub renamed: Vec<(String, String, String)>,
    pub current_context_set: bool,
}

fn parse(text: &str, what: &str) -> Result<Mapping, MergeError> {
    if text.trim().is_empty() {
        return Ok(Mapping::new());
    }
    match serde_yaml::from_str::<Value>(text) {
        Ok(Value::Mapping(m)) => Ok(m),
        Ok(Value::Null) => Ok(Mapping::new()),
        Ok(_) => Err(MergeError::Parse {
            what: what.to_owned(),
            detail: "the document is not a mapping".to_owned(),
        }),
        Err(e) => Err(MergeError::Parse {
            what: what.to_owned(),
            detail: e.to_string(),
        }),
    }
}

fn entries<'a>(config: &'a Mapping, list: &str) -> Vec<&'a Mapping> {
    config
        .get(list)
        .and_then(Value::as_sequence)
        .map(|s| s.iter().filter_map(Value::as_mapping).collect())
        .unwrap_or_default()
}

fn name_of(entry: &Mapping) -> Option<&str> {
    entry.get("name").and_then(Value::as_str)
}

/// Cluster, user and context names that an incoming entry must not take: those of the other
/// kubeconfig files in use.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Names {
    pub clusters: BTreeSet<String>,
    pub users: BTreeSet<String>,
    pub contexts: BTreeSet<String>,
}

impl Names {
    /// The names in the kubeconfig files at `paths`; files that do not exist hold none.
    pub fn in_files<'a>(paths: impl IntoIterator<Item = &'a Path>) -> Result<Names, MergeError> {
        let mut names = Names::default();
        for path in paths {
            let text = match std::fs::read_to_string(path) {
                Ok(text) => text,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(source) => {
                    return Err(MergeError::Io {
                        context: format!("reading {}", path.display()),
                        source,
                    });
                }
            };
            let config = parse(&text, &format!("the kubeconfig {}", path.display()))?;
            for (list, set) in [
                ("clusters", &mut names.clusters),
                ("users", &mut names.users),
                ("contexts", &mut names.contexts),
            ] {
                set.extend(
                    entries(&config, list)
                        .into_iter()
                        .filter_map(name_of)
                        .map(str::to_owned),
                );
            }
        }
        Ok(names)
    }
}

fn field<'a>(entry: &'a Mapping, inner: &str, key: &str) -> Option<&'a str> {
    entry
        .get(inner)
        .and_then(Value::as_mapping)
        .and_then(|m| m.get(key))
        .and_then(Value::as_str)
}

#[cfg(test)]
fn names(config: &Mapping, list: &str) -> BTreeSet<String> {
    entries(config, list)
        .into_iter()
        .filter_map(name_of)
        .map(str::to_owned)
        .collect()
}

fn server_of(config: &Mapping, cluster: &str) -> Option<String> {
    entries(config, "clusters")
        .into_iter()
        .find(|c| name_of(c) == Some(cluster))
        .and_then(|c| field(c, "cluster", "server"))
        .map(str::to_owned)
}

fn find(config: &Mapping, list: &str, name: &str) -> Option<usize> {
    config
        .get(list)
        .and_then(Value::as_sequence)
        .and_then(|s| s.iter().position(|e| e.as_mapping().and_then(name_of) == Some(name)))
}

fn list_mut<'a>(config: &'a mut Mapping, list: &str) -> &'a mut Vec<Value> {
    let slot = config
        .entry(Value::from(list))
        .or_insert_with(|| Value::Sequence(Vec::new()));
    if !slot.is_sequence() {
        *slot = Value::Sequence(Vec::new());
    }
    match slot {
        Value::Sequence(s) => s,
        _ => unreachable!("the slot was just made a sequence"),
    }
}

/// The names an incoming entry may take, in order: its own, then `<name>-<cluster>`, `-2`, `-3`, ….
fn candidates(name: &str, cluster: &str) -> impl Iterator<Item = String> {
    let base = if name == cluster || cluster.is_empty() {
        name.to_owned()
    } else {
        format!("{name}-{cluster}")
    };
    let first = name.to_owned();
    let second = (base != name).then(|| base.clone());
    std::iter::once(first)
        .chain(second)
        .chain((2..).map(move |i| format!("{base}-{i}")))
}

/// Puts `entry` into `list` under the first candidate name that is not `taken` elsewhere and is
/// free or held by an entry `same` says belongs to the same server (which is then replaced). Returns the name used and
/// whether an entry was replaced.
fn place(
    base: &mut Mapping,
    list: &str,
    entry: &Mapping,
    name: &str,
    cluster: &str,
    taken: &BTreeSet<String>,
    same: impl Fn(&Mapping, &str) -> bool,
) -> (String, bool) {
    for candidate in candidates(name, cluster) {
        if taken.contains(&candidate) {
            continue;
        }
        let mut entry = entry.clone();
        entry.insert(Value::from("name"), Value::from(candidate.as_str()));
        match find(base, list, &candidate) {
            None => {
                list_mut(base, list).push(Value::Mapping(entry));
                return (candidate, false);
            }
            Some(i) if same(base, &candidate) => {
                list_mut(base, list)[i] = Value::Mapping(entry);
                return (candidate, true);
            }
            Some(_) => {}
        }
    }
    unreachable!("the candidate names never run out")
}

/// Merges `incoming` (a kubeconfig's text) into `existing` (a kubeconfig's text, possibly empty)
/// and returns the new text. `cluster` is the cluster's name, used to rename clashing entries.
pub fn merge_text(
    existing: &str,
    incoming: &str,
    cluster: &str,
    set_current: bool,
    reserved: &Names,
) -> Result<(String, MergeReport), MergeError> {
    let mut base = parse(existing, "the existing kubeconfig")?;
    let new = parse(incoming, "the cluster's kubeconfig")?;
    let report = merge(&mut base, &new, cluster, set_current, reserved)?;
    let text = serde_yaml::to_string(&Value::Mapping(base)).map_err(|e| MergeError::Parse {
        what: "the merged kubeconfig".to_owned(),
        detail: e.to_string(),
    })?;
    Ok((text, report))
}

fn record(report: &mut MergeReport, kind: &str, from: &str, to: &str, replaced: bool) {
    if replaced {
        report.replaced.push(format!("{kind} {to:?}"));
    } else if from == to {
        report.added.push(format!("{kind} {to:?}"));
    } else {
        report.renamed.push((kind.to_owned(), from.to_owned(), to.to_owned()));
    }
}

/// The server a context of `config` talks to.
fn context_server(config: &Mapping, context: &str) -> Option<String> {
    entries(config, "contexts")
        .into_iter()
        .find(|c| name_of(c) == Some(context))
        .and_then(|c| field(c, "context", "cluster"))
        .and_then(|c| server_of(config, c))
}

/// Merges `new` into `base` following the rule in the module docs.
pub fn merge(
    base: &mut Mapping,
    new: &Mapping,
    cluster: &str,
    set_current: bool,
    reserved: &Names,
) -> Result<MergeReport, MergeError> {
    let new_contexts = entries(new, "contexts");
    if new_contexts.is_empty() {
        return Err(MergeError::NoContext);
    }
    for (key, value) in [("apiVersion", "v1"), ("kind", "Config")] {
        base.entry(Value::from(key)).or_insert_with(|| Value::from(value));
    }
    let mut report = MergeReport::default();

    let mut cluster_names = BTreeMap::new();
    for entry in entries(new, "clusters") {
        let Some(name) = name_of(entry) else { continue };
        let server = field(entry, "cluster", "server").map(str::to_owned);
        let (to, replaced) = place(
            base,
            "clusters",
            entry,
            name,
            cluster,
            &reserved.clusters,
            |b, candidate| server.is_some() && server_of(b, candidate) == server,
        );
        record(&mut report, "cluster", name, &to, replaced);
        cluster_names.insert(name.to_owned(), to);
    }

    let mut user_names = BTreeMap::new();
    for entry in entries(new, "users") {
        let Some(name) = name_of(entry) else { continue };
        let servers: BTreeSet<String> = new_contexts
            .iter()
            .filter(|c| field(c, "context", "user") == Some(name))
            .filter_map(|c| field(c, "context", "cluster"))
            .filter_map(|c| server_of(new, c))
            .collect();
        let (to, replaced) = place(base, "users", entry, name, cluster, &reserved.users, |b, candidate| {
            let used_by: Vec<Option<String>> = entries(b, "contexts")
                .into_iter()
                .filter(|c| field(c, "context", "user") == Some(candidate))
                .map(|c| field(c, "context", "cluster").and_then(|cl| server_of(b, cl)))
                .collect();
            !used_by.is_empty() && used_by.iter().all(|s| s.as_ref().is_some_and(|s| servers.contains(s)))
        });
        record(&mut report, "user", name, &to, replaced);
        user_names.insert(name.to_owned(), to);
    }

    let mut context_names = BTreeMap::new();
    for entry in &new_contexts {
        let Some(name) = name_of(entry) else { continue };
        let server = field(entry, "context", "cluster").and_then(|c| server_of(new, c));
        let mut entry = (*entry).clone();
        if let Some(Value::Mapping(ctx)) = entry.get_mut("context") {
            for (key, renames) in [("cluster", &cluster_names), ("user", &user_names)] {
                let old = ctx.get(key).and_then(Value::as_str).map(str::to_owned);
                if let Some(to) = old.and_then(|o| renames.get(&o)) {
                    ctx.insert(Value::from(key), Value::from(to.as_str()));
                }
            }
        }
        let (to, replaced) = place(
            base,
            "contexts",
            &entry,
            name,
            cluster,
            &reserved.contexts,
            |b, candidate| server.is_some() && context_server(b, candidate) == server,
        );
        record(&mut report, "context", name, &to, replaced);
        context_names.insert(name.to_owned(), to);
    }

    let incoming_current = new
        .get("current-context")
        .and_then(Value::as_str)
        .filter(|c| context_names.contains_key(*c))
        .or_else(|| new_contexts.first().and_then(|c| name_of(c)))
        .unwrap_or_default();
    report.context = context_names.get(incoming_current).cloned().unwrap_or_default();
    if set_current {
        base.insert(Value::from("current-context"), Value::from(report.context.as_str()));
        report.current_context_set = true;
    }
    Ok(report)
}

/// Follows a symlink at `path`, so writing replaces the file it points to rather than the link.
fn resolve_target(path: &Path) -> PathBuf {
    match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
        _ => path.to_path_buf(),
    }
}

/// Writes `contents` to `path` atomically (a temporary file in the same folder, then a rename)
/// with mode 0600, creating the folder if needed.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<(), MergeError> {
    let io = |context: String| move |source| MergeError::Io { context, source };
    let target = resolve_target(path);
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    std::fs::create_dir_all(&dir).map_err(io(format!("creating folder {}", dir.display())))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".kubectl-kkp-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map_err(io(format!("creating a temporary file in {}", dir.display())))?;
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o600))
            .map_err(io(format!("setting the mode of {}", tmp.path().display())))?;
    }
    tmp.write_all(contents)
        .map_err(io(format!("writing {}", tmp.path().display())))?;
    tmp.as_file()
        .sync_all()
        .map_err(io(format!("syncing {}", tmp.path().display())))?;
    tmp.persist(&target).map_err(|e| MergeError::Io {
        context: format!("replacing {}", target.display()),
        source: e.error,
    })?;
    Ok(())
}

/// Merges a kubeconfig into the file at `path` (created if missing) and writes it back, holding
/// the file's lock from reading to writing.
pub fn merge_into_file(
    path: &Path,
    incoming: &str,
    cluster: &str,
    set_current: bool,
    reserved: &Names,
) -> Result<MergeReport, MergeError> {
    let _lock = FileLock::acquire(path, lock::WAIT, lock::STALE_AFTER)?;
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(MergeError::Io {
                context: format!("reading {}", path.display()),
                source,
            });
        }
    };
    let (text, report) = merge_text(&existing, incoming, cluster, set_current, reserved)?;
    write_private(path, text.as_bytes())?;
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEED: &str = "apiVersion: v1
kind: Config
preferences: {colors: true}
x-custom: keep-me
clusters:
- name: admin
  cluster: {server: 'https://seed:6443', certificate-authority-data: AAA}
users:
- name: admin
  user: {token: seed-token}
contexts:
- name: admin
  context: {cluster: admin, user: admin}
current-context: admin
";

    const USER: &str = "apiVersion: v1
kind: Config
clusters:
- name: admin
  cluster: {server: 'https://user:6443'}
users:
- name: admin
  user: {token: user-token}
contexts:
- name: admin
  context: {cluster: admin, user: admin, namespace: kube-system}
current-context: admin
";

    fn parsed(text: &str) -> Mapping {
        parse(text, "test").expect("parses")
    }

    #[test]
    fn names_of_the_other_kubeconfig_files_are_not_taken() {
        let dir = tempfile::tempdir().expect("tempdir");
        let other = dir.path().join("other");
        std::fs::write(&other, USER).expect("write");
        let reserved = Names::in_files([other.as_path(), dir.path().join("missing").as_path()]).expect("names");
        assert!(reserved.contexts.contains("admin"), "{reserved:?}");
        // Merged into an empty file, the incoming entries still keep clear of the other file's names.
        let (text, report) = merge_text("", USER, "abc", false, &reserved).expect("merge");
        assert_eq!(report.context, "admin-abc");
        let merged = parse(&text, "merged").expect("YAML");
        let contexts: Vec<&str> = entries(&merged, "contexts").into_iter().filter_map(name_of).collect();
        assert_eq!(contexts, ["admin-abc"]);
        assert!(Names::in_files([dir.path()]).is_err(), "a folder is not a kubeconfig");
    }

    #[test]
    fn clashing_entries_of_another_server_are_renamed_and_nothing_is_lost() {
        let (text, report) = merge_text(SEED, USER, "abc", true, &Names::default()).expect("merge");
        let merged = parsed(&text);
        assert_eq!(
            names(&merged, "clusters"),
            BTreeSet::from(["admin".into(), "admin-abc".into()])
        );
        assert_eq!(
            names(&merged, "users"),
            BTreeSet::from(["admin".into(), "admin-abc".into()])
        );
        assert_eq!(
            names(&merged, "contexts"),
            BTreeSet::from(["admin".into(), "admin-abc".into()])
        );
        assert_eq!(server_of(&merged, "admin").as_deref(), Some("https://seed:6443"));
        assert_eq!(server_of(&merged, "admin-abc").as_deref(), Some("https://user:6443"));
        let ctx = entries(&merged, "contexts")
            .into_iter()
            .find(|c| name_of(c) == Some("admin-abc"))
            .expect("ctx");
        assert_eq!(field(ctx, "context", "cluster"), Some("admin-abc"));
        assert_eq!(field(ctx, "context", "user"), Some("admin-abc"));
        assert_eq!(field(ctx, "context", "namespace"), Some("kube-system"));
        assert_eq!(merged.get("current-context").and_then(Value::as_str), Some("admin-abc"));
        assert_eq!(merged.get("x-custom").and_then(Value::as_str), Some("keep-me"));
        assert!(merged.get("preferences").is_some());
        assert_eq!(report.context, "admin-abc");
        assert_eq!(report.renamed.len(), 3);
        assert!(report.current_context_set);
    }

    #[test]
    fn merging_again_replaces_the_same_servers_entries_instead_of_adding_more() {
        let (once, _) = merge_text(SEED, USER, "abc", false, &Names::default()).expect("first");
        let refreshed = USER.replace("user-token", "new-token");
        let (twice, report) = merge_text(&once, &refreshed, "abc", false, &Names::default()).expect("second");
        let merged = parsed(&twice);
        assert_eq!(entries(&merged, "clusters").len(), 2, "{twice}");
        assert_eq!(entries(&merged, "users").len(), 2, "{twice}");
        assert_eq!(entries(&merged, "contexts").len(), 2, "{twice}");
        assert!(twice.contains("new-token") && !twice.contains("user-token"), "{twice}");
        assert_eq!(merged.get("current-context").and_then(Value::as_str), Some("admin"));
        assert_eq!(report.context, "admin-abc");
        assert!(report.replaced.iter().any(|r| r.contains("admin-abc")), "{report:?}");
    }

    #[test]
    fn an_empty_or_missing_kubeconfig_gets_the_entries_as_they_are() {
        let (text, report) = merge_text("", USER, "abc", true, &Names::default()).expect("merge");
        let merged = parsed(&text);
        assert_eq!(merged.get("apiVersion").and_then(Value::as_str), Some("v1"));
        assert_eq!(names(&merged, "contexts"), BTreeSet::from(["admin".into()]));
        assert_eq!(report.added.len(), 3);
        assert_eq!(report.context, "admin");
        assert_eq!(merged.get("current-context").and_then(Value::as_str), Some("admin"));
    }

    #[test]
    fn a_kubeconfig_without_contexts_or_not_yaml_is_refused() {
        assert!(matches!(
            merge_text(SEED, "apiVersion: v1\nclusters: []\n", "x", false, &Names::default()),
            Err(MergeError::NoContext)
        ));
        assert!(matches!(
            merge_text(SEED, "- a\n- b\n", "x", false, &Names::default()),
            Err(MergeError::Parse { .. })
        ));
    }

    #[test]
    fn candidate_names_count_up() {
        let got: Vec<String> = candidates("a", "c").take(4).collect();
        assert_eq!(got, ["a", "a-c", "a-c-2", "a-c-3"]);
        let same: Vec<String> = candidates("c", "c").take(3).collect();
        assert_eq!(same, ["c", "c-2", "c-3"]);
    }

    #[test]
    fn files_are_written_atomically_with_mode_0600() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub").join("config");
        let report = merge_into_file(&path, USER, "abc", true, &Names::default()).expect("merge into a new file");
        assert_eq!(report.context, "admin");
        let mode = std::fs::metadata(&path).expect("stat").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        merge_into_file(
            &path,
            &SEED.replace("https://seed:6443", "https://seed2:6443"),
            "seed",
            false,
            &Names::default(),
        )
        .expect("merge again");
        let merged = parsed(&std::fs::read_to_string(&path).expect("read"));
        assert_eq!(entries(&merged, "contexts").len(), 2);
        let leftovers: Vec<_> = std::fs::read_dir(path.parent().expect("dir"))
            .expect("ls")
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty());
    }

    #[test]
    fn concurrent_merges_into_one_file_lose_nothing() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(&path, SEED).expect("write");
        let writers: Vec<_> = (0..8)
            .map(|i| {
                let path = path.clone();
                std::thread::spawn(move || {
                    let incoming = USER
                        .replace("https://user:6443", &format!("https://user-{i}:6443"))
                        .replace("admin", &format!("c{i}"));
                    merge_into_file(&path, &incoming, &format!("c{i}"), false, &Names::default())
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("no panic").expect("merged");
        }
        let merged = parsed(&std::fs::read_to_string(&path).expect("read"));
        let want: BTreeSet<String> = std::iter::once("admin".to_owned())
            .chain((0..8).map(|i| format!("c{i}")))
            .collect();
        for list in ["clusters", "users", "contexts"] {
            assert_eq!(names(&merged, list), want, "{list}");
        }
        assert!(!lock::lock_path(&path).exists(), "the lock is released");
    }

    #[test]
    fn a_locked_file_is_not_written_and_a_failed_merge_releases_the_lock() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("config");
        std::fs::write(&path, SEED).expect("write");
        let stale = std::fs::File::create(lock::lock_path(&path)).expect("lock");
        stale
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(600))
            .expect("age it");
        let err = merge_into_file(&path, USER, "abc", false, &Names::default()).expect_err("locked");
        assert!(matches!(err, MergeError::Lock(LockError::Stale { .. })), "{err}");
        assert_eq!(std::fs::read_to_string(&path).expect("read"), SEED, "untouched");
        std::fs::remove_file(lock::lock_path(&path)).expect("the user removes it");

        std::fs::write(&path, "- not\n- a kubeconfig\n").expect("write");
        let err = merge_into_file(&path, USER, "abc", false, &Names::default()).expect_err("not a kubeconfig");
        assert!(matches!(err, MergeError::Parse { .. }), "{err}");
        assert!(!lock::lock_path(&path).exists(), "released on error too");
    }

    #[test]
    fn writing_through_a_symlink_keeps_the_link() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real");
        let link = dir.path().join("link");
        std::fs::write(&real, "old").expect("write");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        write_private(&link, b"new").expect("write");
        assert!(std::fs::symlink_metadata(&link).expect("stat").file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&real).expect("read"), "new");
    }
}
