//! `linux/of.h`: the live device tree, the OF graph and overlays.
