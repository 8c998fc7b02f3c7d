"""HTTP faces: the webhook endpoint, health and metrics (later the Mini App and the calendar
feed). As thin as handlers/, on the same storage operations; never imports handlers/ or bot/."""
