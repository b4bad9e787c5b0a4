/// Closes the connection without an answer after a `reset` fault.
struct ConnectionReset: Error {}
