//! Admitting a set of objects together, as `kubectl kkp validate`, `kubectl kkp policy test` and
//! `kubectl kkp create cluster` do with the objects of one cluster.
//!
//! Each object is admitted as a CREATE by [`admit`], and two things only a set can tell are added:
//!
//! - the control plane version of the set's one Cluster is the MachineDeployments' cluster
//!   version (their kubelet default and skew rule) when the context names none;
//! - `maxWorkers` counts the replicas of all the MachineDeployments a policy selects in the set,
//!   taken to be the workers of one cluster. A set of several Clusters cannot say which workers
//!   belong to which, so there each MachineDeployment is counted alone, as the webhook does.
//!
//! A total over the limit is a violation of every MachineDeployment counted in it (the Cluster is
//! admitted; any of the MachineDeployments alone would tip the total). A MachineDeployment over
//! the limit by itself already has that policy's `maxWorkers` violation and gets no second one.
//!
//! The webhook sees one object per review and judges each MachineDeployment alone: it agrees with
//! this on every single object, and the set can only be stricter.

use std::borrow::Borrow;

use serde_json::Value;

use super::chain::admit;
use super::verdict::Verdict;
use crate::context::Context;
use crate::policy::{PolicySet, Violation};
use crate::request::{Request, ResourceKind, UserInfo};
use crate::versions;

/// The rule name of the worker limit.
const MAX_WORKERS: &str = "maxWorkers";

/// The verdicts on `objects`, in their order, admitted together as a CREATE by `user`.
pub fn admit_all<V: Borrow<Value>>(objects: &[V], ctx: &Context, user: Option<&UserInfo>) -> Vec<Verdict> {
    let with_version;
    let ctx = match (&ctx.cluster_version, lone_cluster_version(objects)) {
        (None, Some(version)) => {
            with_version = Context {
                cluster_version: Some(version),
                ..ctx.clone()
            };
            &with_version
        }
        _ => ctx,
    };
    let mut verdicts: Vec<Verdict> = objects
        .iter()
        .map(|object| {
            let request = Request {
                user,
                ..Request::create(object.borrow())
            };
            admit(&request, ctx)
        })
        .collect();
    if clusters(objects).count() <= 1 {
        add_worker_totals(&mut verdicts, objects, &ctx.policies);
    }
    verdicts
}

/// The control plane version of the one KKP Cluster among `objects`; `None` when there is none,
/// more than one, or its version does not parse.
pub fn lone_cluster_version<V: Borrow<Value>>(objects: &[V]) -> Option<semver::Version> {
    let mut clusters = clusters(objects);
    let only = clusters.next()?;
    if clusters.next().is_some() {
        return None;
    }
    versions::parse(only.pointer("/spec/version")?.as_str()?).ok()
}

fn clusters<V: Borrow<Value>>(objects: &[V]) -> impl Iterator<Item = &Value> {
    objects
        .iter()
        .map(Borrow::borrow)
        .filter(|o| ResourceKind::of(o) == ResourceKind::Cluster)
}

/// A MachineDeployment's replicas, as the policies count them (1 when unset).
fn replicas(object: &Value) -> i64 {
    object.pointer("/spec/replicas").and_then(Value::as_i64).unwrap_or(1)
}

/// Adds each policy's `maxWorkers` over the MachineDeployments it selected to their verdicts.
fn add_worker_totals<V: Borrow<Value>>(verdicts: &mut [Verdict], objects: &[V], set: &PolicySet) {
    // The replicas the policies saw: of the defaulted object when there is one.
    let deployments: Vec<(usize, i64)> = verdicts
        .iter()
        .zip(objects)
        .enumerate()
        .filter(|(_, (v, _))| v.kind == ResourceKind::MachineDeployment && v.skipped.is_none())
        .map(|(i, (v, sent))| (i, replicas(v.object.as_ref().unwrap_or(sent.borrow()))))
        .collect();
    for policy in set.iter() {
        let Some(max) = policy.rules.max_workers else {
            continue;
        };
        let counted: Vec<(usize, i64)> = deployments
            .iter()
            .copied()
            .filter(|(i, _)| verdicts[*i].matched_policies.contains(&policy.name))
            .collect();
        if counted.len() < 2 {
            continue;
        }
        let total = counted.iter().fold(0i64, |sum, (_, r)| sum.saturating_add(*r));
        if total <= max {
            continue;
        }
        let message = format!(
            "{total} workers across {} MachineDeployments exceed the maximum of {max} per cluster",
            counted.len()
        );
        for (i, _) in counted {
            let verdict = &mut verdicts[i];
            let already = verdict
                .violations
                .iter()
                .any(|v| v.policy == policy.name && v.rule == MAX_WORKERS);
            if !already {
                verdict.violations.push(Violation {
                    policy: policy.name.clone(),
                    rule: MAX_WORKERS.to_owned(),
                    message: message.clone(),
                    enforcement: policy.enforcement,
                });
            }
        }
    }
}
