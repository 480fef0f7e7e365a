"""SIP over UDP: messages, SDP and the user agent server."""
