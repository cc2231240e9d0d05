//! OF graph lookups as drivers make them (`drivers/of/property.c`), on the live tree.

use kmodel::device::DeviceId;
use kmodel::of::{NodeId, OfGraphError};
use kmodel::Kernel;

/// `of_graph_get_remote_node(dev->of_node, port, endpoint)`: the available device node at the
/// other end of the endpoint, or `None`. A one-way `remote-endpoint` link is reported as a
/// warning and not followed (the kernel would follow it blindly).
pub fn remote_node(k: &Kernel, dev: DeviceId, port: i32, endpoint: i32) -> Option<NodeId> {
    let node = k.dev_of_node(dev)?;
    remote_node_of(k, node, port, endpoint)
}

/// [`remote_node`] for a node.
pub fn remote_node_of(k: &Kernel, node: NodeId, port: i32, endpoint: i32) -> Option<NodeId> {
    match k.of_tree(|t| t.of_graph_get_remote_node(node, port, endpoint)) {
        Ok(n) => Some(n),
        Err(OfGraphError::OneWayLink {
            endpoint, remote, ..
        }) => {
            let (a, b) = k.of_tree_peek(|t| (t.full_name(endpoint), t.full_name(remote)));
            k.warn(format!(
                "OF graph: remote-endpoint {a} -> {b} is not bidirectional"
            ));
            None
        }
        Err(_) => None,
    }
}

/// Whether the node has an endpoint on `port`.
pub fn has_port(k: &Kernel, dev: DeviceId, port: i32) -> bool {
    let Some(node) = k.dev_of_node(dev) else {
        return false;
    };
    k.of_tree(|t| t.of_graph_get_endpoint_by_regs(node, port, -1).is_some())
}
