"""The phone line: a SIP user agent server, media, prompts and the IVR menu."""
