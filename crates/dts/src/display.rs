//! The display graph: display controllers → bridges → panels/connectors.
pub fn render(_dt: &kmodel::of::DeviceTree) -> String {
    String::new()
}
