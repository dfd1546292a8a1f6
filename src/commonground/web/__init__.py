"""The pages practitioners work in: server-rendered HTML that works without JavaScript, in the patterns of the
GOV.UK Design System (written here, not copied), over the same resolver, audit and store as the JSON API."""
