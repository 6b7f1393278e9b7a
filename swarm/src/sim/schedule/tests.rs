use super::*;
use crate::fleet::sched::{Dag, TaskSpec};
use workload::Conversation;

fn chain(n: usize) -> Workload {
    let specs = (0..n)
        .map(|i| TaskSpec {
            work: 2.0,
            deps: if i == 0 { vec![] } else { vec![i - 1] },
            hard: false,
        })
        .collect();
    Workload {
        shape: Shape::Deep,
        dag: Dag::new(specs).unwrap_or_else(|e| panic!("{e}")),
        truth: (0..n)
            .map(|_| Conversation {
                task_prompt: 500,
                replies: vec![300, 300],
                tool_outputs: vec![200],
            })
            .collect(),
        prefix_tokens: 4000,
        plan_of: vec![0; n],
    }
}

fn node(decode_tps: f64, slots: u32) -> NodeModel {
    NodeModel {
        name: "n".into(),
        decode_tps,
        slots,
        fault: None,
    }
}

#[test]
fn a_chain_on_one_warm_node_takes_exactly_its_solo_time_which_is_the_bound() {
    let work = chain(5);
    let cal = Calibration::default();
    let fleet = [node(100.0, 1)];
    let bound = heft::lower_bound(&work, &fleet, &cal);
    let scheduler = Scheduler::new(work.dag.clone(), Policy::Eft, 1.0);
    let measured = simulate(
        &work,
        &fleet,
        cal,
        Options::default(),
        &Driver::Online(&scheduler),
        bound.value(),
    )
    .unwrap_or_else(|e| panic!("{e:?}"));
    assert!(
        (measured.makespan - bound.critical_path).abs() < 1e-6,
        "{} vs {}",
        measured.makespan,
        bound.critical_path
    );
    // Per task: 0.15 + 500/1200 + 3 s, 0.5 s of tools, 0.15 + 200/1200 + 3 s.
    let per_task = 0.15 + 500.0 / 1200.0 + 3.0 + 0.5 + 0.15 + 200.0 / 1200.0 + 3.0;
    assert!((measured.makespan - 5.0 * per_task).abs() < 1e-6);
    assert!((measured.occupancy() - 1.0).abs() < 1e-9);
    // Everything but the new tokens came from the cache: 10 requests of 4000+ tokens.
    assert_eq!(measured.requests, 10);
    assert!(measured.cache_share() > 0.9, "{}", measured.cache_share());
    // A cold slot (no pre-warming) pays the prefix once: the first request only.
    let cold = Options {
        prewarm: false,
        ..Options::default()
    };
    let colder = simulate(&work, &fleet, cal, cold, &Driver::Online(&scheduler), 1.0)
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert!((colder.makespan - measured.makespan - 4000.0 / 1200.0).abs() < 1e-6);
}

#[test]
fn no_schedule_beats_the_bound_and_affinity_keeps_the_cache_warm() {
    let cal = Calibration::default();
    for fleet in [FleetKind::Equal3, FleetKind::Mixed4, FleetKind::Mixed16] {
        for shape in Shape::ALL {
            let scenario = Scenario {
                shape,
                tasks: 40,
                fleet,
                seed: 3,
                plans: 1,
            };
            for policy in [Policy::Eft, Policy::Greedy] {
                let figures = run(scenario, policy, cal, Options::default(), true)
                    .unwrap_or_else(|e| panic!("{e}"));
                assert!(figures.over_bound() >= 1.0 - 1e-9, "{figures:?}");
                let heft = figures.heft.as_ref().map(|h| h.makespan / figures.bound);
                assert!(heft.is_some_and(|h| h >= 1.0 - 1e-9), "{figures:?}");
                assert!(figures.measured.occupancy() <= 1.0 + 1e-9);
            }
        }
    }
    // Two-slot nodes: without slot affinity, conversations move between slots and lose
    // their cache.
    let scenario = Scenario {
        shape: Shape::Wide,
        tasks: 40,
        fleet: FleetKind::Equal3,
        seed: 3,
        plans: 1,
    };
    let with = run(scenario, Policy::Eft, cal, Options::default(), false)
        .unwrap_or_else(|e| panic!("{e}"));
    let without = Options {
        affinity: false,
        ..Options::default()
    };
    let without = run(scenario, Policy::Eft, cal, without, false).unwrap_or_else(|e| panic!("{e}"));
    // What misses the cache is what costs prefill time.
    let uncached = |m: &Measured| (m.prompt_tokens - m.cached_tokens) as f64;
    assert!(
        uncached(&without.measured) > 1.2 * uncached(&with.measured),
        "{:?} vs {:?}",
        with.measured,
        without.measured
    );
}

#[test]
fn on_one_fast_and_three_slow_nodes_the_policy_beats_the_greedy_one() {
    let cal = Calibration::default();
    let mut eft = Vec::new();
    let mut greedy = Vec::new();
    for seed in 1..=5 {
        let case = mixed_speed_case(seed);
        let options = Options::default();
        eft.push(run(case, Policy::Eft, cal, options, false).map(|f| f.over_bound()));
        greedy.push(run(case, Policy::Greedy, cal, options, false).map(|f| f.over_bound()));
    }
    let mut eft: Vec<f64> = eft.into_iter().map(|r| r.unwrap_or(f64::NAN)).collect();
    let mut greedy: Vec<f64> = greedy.into_iter().map(|r| r.unwrap_or(f64::NAN)).collect();
    let (e, g) = (median(&mut eft), median(&mut greedy));
    assert!(
        e.zip(g).is_some_and(|(e, g)| e < g),
        "eft {e:?} greedy {g:?}"
    );
}

#[test]
fn faults_send_tasks_elsewhere_and_a_fleet_with_no_node_left_is_reported() {
    let cal = Calibration::default();
    let scenario = Scenario {
        shape: Shape::Wide,
        tasks: 200,
        fleet: FleetKind::Flaky8,
        seed: 2,
        plans: 1,
    };
    let figures =
        run(scenario, Policy::Eft, cal, Options::default(), true).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        figures.heft.is_none(),
        "HEFT assumes a fleet without faults"
    );
    assert!(figures.measured.reroutes > 0, "{figures:?}");
    assert!(figures.over_bound() >= 1.0);
    // The only node dies a tenth of the way in.
    let work = chain(4);
    let dying = [NodeModel {
        fault: Some(Fault::Die { at: 0.1 }),
        ..node(100.0, 1)
    }];
    let scheduler = Scheduler::new(work.dag.clone(), Policy::Eft, 1.0);
    let stuck = simulate(
        &work,
        &dying,
        cal,
        Options::default(),
        &Driver::Online(&scheduler),
        10.0,
    );
    assert!(
        matches!(&stuck, Err(Stuck(why)) if why.contains("no node left")),
        "{stuck:?}"
    );
}

#[test]
fn several_plans_at_once_fill_a_fleet_one_plan_cannot() {
    let cal = Calibration::default();
    let one = Scenario {
        shape: Shape::Plan,
        tasks: 16,
        fleet: FleetKind::Equal3,
        seed: 1,
        plans: 1,
    };
    let four = Scenario { plans: 4, ..one };
    assert_eq!(four.label(), "plan/16×4@equal-3");
    let run_one =
        run(one, Policy::Eft, cal, Options::default(), false).unwrap_or_else(|e| panic!("{e}"));
    let run_four =
        run(four, Policy::Eft, cal, Options::default(), false).unwrap_or_else(|e| panic!("{e}"));
    // A 16-task plan is narrower than six slots; four of them side by side are not.
    assert!(!run_one.width_allows() && run_four.width_allows());
    assert!(
        run_four.measured.occupancy() > run_one.measured.occupancy() + 0.3,
        "{} vs {}",
        run_four.measured.occupancy(),
        run_one.measured.occupancy()
    );
    // Each plan's prefix is its own: a slot that moves to another plan re-reads it.
    let share = |m: &Measured| m.cached_tokens as f64 / m.prompt_tokens as f64;
    assert!(share(&run_four.measured) < share(&run_one.measured));
}

#[test]
fn a_node_s_rate_counts_tools_as_slot_time_and_requests_as_shared_throughput() {
    // No tools: every slot streaming, at the shared throughput (two slots: 1.6× one).
    let rate = heft::node_rate(100.0, 0.0, 2, 0.25);
    assert!((rate - 1.6 / 100.0).abs() < 1e-9, "{rate}");
    // No sharing: slots alone bound it, tools included.
    let rate = heft::node_rate(100.0, 50.0, 2, 0.0);
    assert!((rate - 2.0 / 150.0).abs() < 1e-9, "{rate}");
    // Both: tools take slot time, so fewer requests run at once and the throughput left is
    // less than either bound alone gives.
    let both = heft::node_rate(100.0, 50.0, 2, 0.25);
    let (by_throughput, by_slots) = (1.6 / 100.0, 2.0 / 150.0);
    assert!(both < by_slots && by_slots < by_throughput, "{both}");
    // y × 100 = g(2 − 50 y) with g(k) = k ÷ (1 + 0.25 (k − 1)).
    let k = 2.0 - 50.0 * both;
    assert!((both * 100.0 - k / (1.0 + 0.25 * (k - 1.0))).abs() < 1e-9);
    // One slot: a request or a tool at a time.
    let rate = heft::node_rate(100.0, 50.0, 1, 0.25);
    assert!((rate - 1.0 / 150.0).abs() < 1e-9, "{rate}");
    assert_eq!(heft::node_rate(0.0, 50.0, 2, 0.25), 0.0);
}

/// `n` independent tasks like those of [`chain`].
fn independent(n: usize) -> Workload {
    let mut work = chain(n);
    let specs = (0..n)
        .map(|_| TaskSpec {
            work: 2.0,
            deps: vec![],
            hard: false,
        })
        .collect();
    work.dag = Dag::new(specs).unwrap_or_else(|e| panic!("{e}"));
    work.shape = Shape::Wide;
    work
}

#[test]
fn the_exhaustive_search_finds_the_best_schedule_and_no_schedule_beats_it() {
    let cal = Calibration::default();
    let fast = node(1000.0, 1);
    let slow = node(150.0, 1);
    let on_fast = |w: &Workload, t: usize| heft::solo_seconds(w, t, &fast, &cal);
    let on_slow = |w: &Workload, t: usize| heft::solo_seconds(w, t, &slow, &cal);
    // A chain: every task on the fast node, one after another.
    let work = chain(4);
    let found = optimum::optimum(&work, &[fast.clone(), slow.clone()], &cal, 1_000_000)
        .unwrap_or_else(|| panic!("applies"));
    let all_fast: f64 = (0..4).map(|t| on_fast(&work, t)).sum();
    assert!(
        found.proven && (found.makespan - all_fast).abs() < 1e-9,
        "{found:?}"
    );
    // Three alike independent tasks on one fast and one slow node: the slow node helps only
    // when one task there ends before the fast node ends the rest.
    let work = independent(3);
    let fleet = [fast.clone(), slow.clone()];
    let found =
        optimum::optimum(&work, &fleet, &cal, 1_000_000).unwrap_or_else(|| panic!("applies"));
    let (f, s) = (on_fast(&work, 0), on_slow(&work, 0));
    let best = (3.0 * f).min((2.0 * f).max(s));
    assert!(
        found.proven && (found.makespan - best).abs() < 1e-9,
        "{found:?} vs {best}"
    );
    // The mixed-speed case: at least the bound, at most what HEFT does in the simulation.
    let case = mixed_speed_case(1);
    let (found, bound) = optimum_of(case, cal, 50_000_000)
        .unwrap_or_else(|e| panic!("{e}"))
        .unwrap_or_else(|| panic!("applies"));
    let figures =
        run(case, Policy::Eft, cal, Options::default(), true).unwrap_or_else(|e| panic!("{e}"));
    let heft = figures.heft.unwrap_or_else(|| panic!("no faults"));
    assert!(found.floor >= bound - 1e-9, "{found:?} vs {bound}");
    assert!(
        found.makespan <= heft.makespan + 1e-9,
        "{found:?} vs {heft:?}"
    );
    assert!(found.makespan <= figures.measured.makespan + 1e-9);
    // Where it does not apply: slots above one, or a fault.
    assert!(optimum::optimum(&work, &[node(400.0, 2)], &cal, 10).is_none());
}

#[test]
fn told_the_true_sizes_the_scheduler_ranks_by_them() {
    let cal = Calibration::default();
    let case = mixed_speed_case(2);
    let work = case.workload().unwrap_or_else(|e| panic!("{e}"));
    let nodes = case.fleet.nodes(case.seed);
    let told = told_true_sizes(&work, &nodes, &cal);
    // The same DAG, its mean task 2 units, and the sizes in the order of the true seconds.
    assert_eq!(told.len(), work.dag.len());
    let mean = (0..told.len()).map(|t| told.task(t).work).sum::<f64>() / told.len() as f64;
    assert!((mean - 2.0).abs() < 1e-9, "{mean}");
    let fast = &nodes[0];
    for (a, b) in [(0, 1), (2, 3), (4, 5)] {
        let seconds = |t: usize| heft::solo_seconds(&work, t, fast, &cal);
        assert_eq!(
            told.task(a).work < told.task(b).work,
            seconds(a) < seconds(b),
            "tasks {a} and {b}"
        );
        assert_eq!(told.task(a).deps, work.dag.task(a).deps);
    }
    let oracle = Options {
        true_sizes: true,
        ..Options::default()
    };
    let figures = run(case, Policy::Eft, cal, oracle, false).unwrap_or_else(|e| panic!("{e}"));
    assert!(figures.over_bound() >= 1.0 - 1e-9);
}
