"""HTTP routes, one module per area. Each router reads the shared state from ``request.app.state.runtime``."""
