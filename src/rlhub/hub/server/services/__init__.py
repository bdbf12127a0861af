"""Hub logic, free of HTTP: each module takes a session and plain values and raises `HubError`."""
