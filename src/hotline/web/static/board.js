// The phone line announces the call it puts through to this user: show the caller's card.
if (document.getElementById("phone")) {
  new EventSource("/api/v1/events").addEventListener("call.answered", () => location.reload());
}
