// The phone line announces the call it puts through to this user: show the caller's card.
// After a dropped connection the browser resumes from the last event id, so a call answered
// meanwhile still arrives; `reset` means too much was missed to replay: reload.
if (document.getElementById("phone")) {
  const events = new EventSource("/api/v1/events");
  events.addEventListener("call.answered", () => location.reload());
  events.addEventListener("reset", () => location.reload());
}
