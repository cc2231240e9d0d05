//! The display pipelines the display-controller models created, by controller node, so
//! scenario steps can commit on "the CRTC of /soc@0/display-controller@32e80000".

use drm::connector::DrmConnector;
use drm::drv::DrmDevice;
use drm::encoder::DrmEncoder;
use kmodel::of::NodeId;
use kmodel::{Kernel, Obj};

/// One controller's pipeline.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Pipe {
    pub node: NodeId,
    pub drm: DrmDevice,
    pub encoder: DrmEncoder,
    pub connector: Option<DrmConnector>,
}

#[derive(Copy, Clone)]
struct Pipes(Obj<Vec<Pipe>>);

fn pipes(k: &Kernel) -> Pipes {
    k.global(|k| Pipes(k.static_obj("display pipes", "display pipes", Vec::new())))
}

/// A controller bound and registered its pipeline.
pub fn display_register(k: &Kernel, pipe: Pipe) {
    k.write(pipes(k).0, |p| p.push(pipe));
}

/// A controller is unbinding.
pub fn display_unregister(k: &Kernel, node: NodeId) {
    k.write(pipes(k).0, |p| p.retain(|x| x.node != node));
}

/// The pipeline of the controller at `node`, if bound.
pub fn display_lookup(k: &Kernel, node: NodeId) -> Option<Pipe> {
    k.read(pipes(k).0, |p| p.iter().find(|x| x.node == node).copied())
}

/// Every registered pipeline.
pub fn display_pipes(k: &Kernel) -> Vec<Pipe> {
    k.read(pipes(k).0, |p| p.clone())
}
