//! The OF graph helpers of drivers/of/property.c (`of_graph_*`), for both
//! layouts: `ports { port@N { endpoint@M } }` and a single `port` child.
//!
//! Unlike the kernel, following a `remote-endpoint` checks that the link is
//! bidirectional: a one-way link (A→B, B does not point back at A) is
//! reported as [`OfGraphError::OneWayLink`] instead of being followed. dtc's
//! `graph_endpoint` check warns about the same thing ("graph connection ...
//! is not bidirectional", checks.c `get_remote_endpoint`).

use super::{DeviceTree, NodeId, Phandle};

/// An endpoint with its parsed ids (`struct of_endpoint`).
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct EndpointRef {
    pub node: NodeId,
    /// The `reg` of the parent port (0 when absent).
    pub port: u32,
    /// The `reg` of the endpoint (0 when absent).
    pub id: u32,
}

/// Why a graph lookup did not produce a node.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OfGraphError {
    /// No endpoint matched the requested port/endpoint ids.
    NoEndpoint {
        node: NodeId,
        port: i32,
        endpoint: i32,
    },
    /// The endpoint has no (well-formed) `remote-endpoint` property.
    NoRemoteEndpoint { endpoint: NodeId },
    /// `remote-endpoint` holds a phandle no node has.
    DanglingPhandle { endpoint: NodeId, phandle: u32 },
    /// A→B, but B's `remote-endpoint` does not point back at A
    /// (`back` is where it points instead, if anywhere).
    OneWayLink {
        endpoint: NodeId,
        remote: NodeId,
        back: Option<NodeId>,
    },
    /// The remote device node is disabled (`of_graph_get_remote_node`
    /// returns NULL for it).
    Unavailable { node: NodeId },
}

impl DeviceTree {
    fn reg_or_zero(&self, node: NodeId) -> u32 {
        self.read_u32(node, "reg").unwrap_or(0)
    }

    /// The node holding the ports: the `ports` child if there is one, else
    /// the device node itself.
    fn ports_container(&self, parent: NodeId) -> NodeId {
        self.child_by_full_name(parent, "ports").unwrap_or(parent)
    }

    /// Every `port`/`port@N` of a device, in child order.
    pub fn of_graph_ports(&self, parent: NodeId) -> Vec<NodeId> {
        let c = self.ports_container(parent);
        self.children(c)
            .iter()
            .copied()
            .filter(|&p| self.base_name(p) == "port")
            .collect()
    }

    /// `of_graph_get_port_by_id`: the port whose `reg` (0 if absent) is `id`.
    pub fn of_graph_get_port_by_id(&self, parent: NodeId, id: u32) -> Option<NodeId> {
        self.of_graph_ports(parent)
            .into_iter()
            .find(|&p| self.reg_or_zero(p) == id)
    }

    /// `of_graph_parse_endpoint`.
    pub fn of_graph_parse_endpoint(&self, ep: NodeId) -> EndpointRef {
        let port = self.parent(ep).map(|p| self.reg_or_zero(p)).unwrap_or(0);
        EndpointRef {
            node: ep,
            port,
            id: self.reg_or_zero(ep),
        }
    }

    /// All endpoints of a device in the order `for_each_endpoint_of_node`
    /// visits them (ports in order, endpoints in order).
    pub fn of_graph_endpoints(&self, parent: NodeId) -> Vec<EndpointRef> {
        let mut out = Vec::new();
        for port in self.of_graph_ports(parent) {
            for &ep in self.children(port) {
                if self.base_name(ep) == "endpoint" {
                    out.push(self.of_graph_parse_endpoint(ep));
                }
            }
        }
        out
    }

    /// `of_graph_get_endpoint_by_regs(node, port, ep)`; -1 matches any.
    pub fn of_graph_get_endpoint_by_regs(
        &self,
        parent: NodeId,
        port: i32,
        endpoint: i32,
    ) -> Option<NodeId> {
        self.of_graph_endpoints(parent)
            .into_iter()
            .find(|e| {
                (port == -1 || e.port as i64 == port as i64)
                    && (endpoint == -1 || e.id as i64 == endpoint as i64)
            })
            .map(|e| e.node)
    }

    /// Follows `remote-endpoint` without the bidirectionality check (what
    /// the kernel's `of_graph_get_remote_endpoint` does).
    pub fn of_graph_get_remote_endpoint_unchecked(
        &self,
        ep: NodeId,
    ) -> Result<NodeId, OfGraphError> {
        let ph = self
            .read_u32(ep, "remote-endpoint")
            .ok_or(OfGraphError::NoRemoteEndpoint { endpoint: ep })?;
        self.of_find_node_by_phandle(Phandle(ph))
            .ok_or(OfGraphError::DanglingPhandle {
                endpoint: ep,
                phandle: ph,
            })
    }

    /// `of_graph_get_remote_endpoint`, checked: the remote endpoint must
    /// point back at `ep`.
    pub fn of_graph_get_remote_endpoint(&self, ep: NodeId) -> Result<NodeId, OfGraphError> {
        let remote = self.of_graph_get_remote_endpoint_unchecked(ep)?;
        let back = self.of_graph_get_remote_endpoint_unchecked(remote).ok();
        if back != Some(ep) {
            return Err(OfGraphError::OneWayLink {
                endpoint: ep,
                remote,
                back,
            });
        }
        Ok(remote)
    }

    /// `of_graph_get_port_parent`: the device owning a port, skipping a
    /// `ports` (or `in-ports`/`out-ports`) container.
    pub fn of_graph_get_port_parent(&self, port: NodeId) -> Option<NodeId> {
        let p = self.parent(port)?;
        if matches!(self.base_name(p), "ports" | "in-ports" | "out-ports") {
            self.parent(p)
        } else {
            Some(p)
        }
    }

    /// `of_graph_get_remote_port`: the port of the remote endpoint.
    pub fn of_graph_get_remote_port(&self, ep: NodeId) -> Result<NodeId, OfGraphError> {
        let remote = self.of_graph_get_remote_endpoint(ep)?;
        self.parent(remote)
            .ok_or(OfGraphError::NoRemoteEndpoint { endpoint: ep })
    }

    /// `of_graph_get_remote_port_parent`: the device at the other end.
    pub fn of_graph_get_remote_port_parent(&self, ep: NodeId) -> Result<NodeId, OfGraphError> {
        let port = self.of_graph_get_remote_port(ep)?;
        self.of_graph_get_port_parent(port)
            .ok_or(OfGraphError::NoRemoteEndpoint { endpoint: ep })
    }

    /// `of_graph_get_remote_node(node, port, endpoint)`: the available
    /// device connected to the given endpoint of `node`.
    pub fn of_graph_get_remote_node(
        &self,
        node: NodeId,
        port: i32,
        endpoint: i32,
    ) -> Result<NodeId, OfGraphError> {
        let ep = self
            .of_graph_get_endpoint_by_regs(node, port, endpoint)
            .ok_or(OfGraphError::NoEndpoint {
                node,
                port,
                endpoint,
            })?;
        let remote = self.of_graph_get_remote_port_parent(ep)?;
        if !self.of_device_is_available(remote) {
            return Err(OfGraphError::Unavailable { node: remote });
        }
        Ok(remote)
    }

    /// Every one-way `remote-endpoint` link in the tree, as
    /// `(endpoint, remote, where remote points back)`.
    pub fn of_graph_one_way_links(&self) -> Vec<(NodeId, NodeId, Option<NodeId>)> {
        self.all_nodes()
            .into_iter()
            .filter(|&n| self.property(n, "remote-endpoint").is_some())
            .filter_map(|n| match self.of_graph_get_remote_endpoint(n) {
                Err(OfGraphError::OneWayLink {
                    endpoint,
                    remote,
                    back,
                }) => Some((endpoint, remote, back)),
                _ => None,
            })
            .collect()
    }
}
