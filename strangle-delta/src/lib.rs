//! Delta Exchange adapter for strangle: signed REST, WebSocket, and a Delta-compatible local server. Not built yet (issue 3).
