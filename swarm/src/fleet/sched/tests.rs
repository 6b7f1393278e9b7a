use super::*;

fn task(work: f64, deps: &[usize], hard: bool) -> TaskSpec {
    TaskSpec {
        work,
        deps: deps.to_vec(),
        hard,
    }
}

fn node(speed: f64, slots: u32, busy: &[f64]) -> NodeView {
    NodeView {
        speed,
        slots,
        available_in: Some(0.0),
        busy: busy.to_vec(),
        share: 0.0,
    }
}

fn scheduler(tasks: Vec<TaskSpec>, policy: Policy) -> Scheduler {
    let dag = Dag::new(tasks).unwrap_or_else(|e| panic!("{e}"));
    Scheduler::new(dag, policy, 1.0)
}

const NO_AVOID: &dyn Fn(usize) -> Option<usize> = &|_| None;

#[test]
fn a_long_task_waits_for_the_busy_fast_node_when_that_finishes_sooner() {
    // The fast node (10 units/s) frees in 1 s; the slow one (1 unit/s) is free now. A task of
    // 20 units finishes at 3 s on the fast node and at 20 s on the slow one: it waits.
    let s = scheduler(vec![task(20.0, &[], false)], Policy::Eft);
    let nodes = [node(10.0, 1, &[1.0]), node(1.0, 1, &[])];
    let decided = s.decide(&[0], &nodes, NO_AVOID);
    assert!(decided.start.is_empty(), "{decided:?}");
    assert_eq!(
        decided.waiting,
        vec![Waiting {
            task: 0,
            node: 0,
            start: 1.0
        }]
    );
    // The old policy gives it to the free slow node.
    let greedy = scheduler(vec![task(20.0, &[], true)], Policy::Greedy);
    let decided = greedy.decide(&[0], &nodes, NO_AVOID);
    assert_eq!(decided.start.len(), 1);
    assert_eq!(decided.start[0].node, 1);
}

#[test]
fn the_free_slow_slot_takes_a_task_it_finishes_first_while_the_critical_one_waits() {
    // Task 0 heads a long chain (rank 30), task 1 is a short leaf. The critical task waits for
    // the fast node; the leaf goes to the slow free node (it ends there at 1 s, on the fast
    // node only after task 0, at 1.6 s: work stealing by an idle slot).
    let s = scheduler(
        vec![
            task(10.0, &[], false),
            task(1.0, &[], false),
            task(20.0, &[0], false),
        ],
        Policy::Eft,
    );
    let nodes = [node(10.0, 1, &[0.5]), node(1.0, 1, &[])];
    let decided = s.decide(&[0, 1], &nodes, NO_AVOID);
    assert_eq!(decided.waiting.len(), 1);
    assert_eq!(decided.waiting[0].task, 0);
    assert_eq!(decided.start.len(), 1);
    assert_eq!((decided.start[0].task, decided.start[0].node), (1, 1));
    assert!((decided.start[0].finish - 1.0).abs() < 1e-9);
    let text = decided.start[0].to_string();
    assert!(text.contains("earliest finish"), "{text}");
}

#[test]
fn free_nodes_fill_in_priority_order_and_share_slows_a_busy_node() {
    let s = scheduler(
        vec![
            task(1.0, &[], false),
            task(5.0, &[], false),
            task(3.0, &[], false),
        ],
        Policy::Eft,
    );
    assert_eq!(s.by_priority(&[0, 1, 2]), vec![1, 2, 0]);
    // One node of two slots that split one stream's throughput, one plain node: the biggest
    // task goes first to the emptiest place.
    let mut shared = node(2.0, 2, &[]);
    shared.share = 1.0;
    let nodes = [shared, node(2.0, 1, &[])];
    let decided = s.decide(&[0, 1, 2], &nodes, NO_AVOID);
    let placed: Vec<(usize, usize)> = decided.start.iter().map(|d| (d.task, d.node)).collect();
    assert_eq!(placed, vec![(1, 0), (2, 1), (0, 0)]);
    // On the shared node the second stream runs at half speed: 1 unit takes 1 s, not 0.5.
    assert!((decided.start[2].finish - 1.0).abs() < 1e-9);
}

#[test]
fn a_node_that_is_gone_is_never_chosen_and_one_rejoining_is_waited_for_only_if_it_wins() {
    let s = scheduler(vec![task(10.0, &[], false)], Policy::Eft);
    let mut gone = node(100.0, 1, &[]);
    gone.available_in = None;
    let mut rejoining = node(10.0, 1, &[]);
    rejoining.available_in = Some(2.0);
    let slow = node(1.0, 1, &[]);
    // Rejoining at 2 s, done at 3 s, beats the slow node's 10 s.
    let decided = s.decide(
        &[0],
        &[gone.clone(), rejoining.clone(), slow.clone()],
        NO_AVOID,
    );
    assert!(decided.start.is_empty());
    assert_eq!(decided.waiting[0].node, 1);
    // Rejoining only in 20 s: the slow node takes it now.
    rejoining.available_in = Some(20.0);
    let decided = s.decide(&[0], &[gone, rejoining, slow], NO_AVOID);
    assert_eq!(decided.start[0].node, 2);
}

#[test]
fn the_node_a_task_failed_on_is_avoided_unless_it_is_the_only_one() {
    for policy in [Policy::Eft, Policy::Greedy] {
        let s = scheduler(vec![task(1.0, &[], false)], policy);
        let avoid: &dyn Fn(usize) -> Option<usize> = &|_| Some(0);
        let two = [node(5.0, 1, &[]), node(1.0, 1, &[])];
        assert_eq!(s.decide(&[0], &two, avoid).start[0].node, 1, "{policy:?}");
        let one = [node(5.0, 1, &[])];
        assert_eq!(s.decide(&[0], &one, avoid).start[0].node, 0, "{policy:?}");
    }
}

#[test]
fn the_old_policy_fills_every_free_slot_hard_tasks_on_the_fastest() {
    let s = scheduler(
        vec![
            task(1.0, &[], false),
            task(1.0, &[], true),
            task(1.0, &[], false),
            task(1.0, &[], false),
        ],
        Policy::Greedy,
    );
    let nodes = [node(1.0, 1, &[]), node(9.0, 1, &[]), node(2.0, 2, &[2.0])];
    let decided = s.decide(&[0, 1, 2, 3], &nodes, NO_AVOID);
    let placed: Vec<(usize, usize)> = decided.start.iter().map(|d| (d.task, d.node)).collect();
    // Three free slots, three tasks start; the hard one on the fastest node.
    assert_eq!(placed.len(), 3);
    assert!(placed.contains(&(1, 1)), "{placed:?}");
    assert!(decided.waiting.is_empty());
}
