//! File-tree helpers, shared with the swarm (which copies projects for verification).

pub use swarm::{copy_tree, hash_tree, project_files, text_files};
