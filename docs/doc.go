// Package docs holds no code: its directory holds mqbench's documentation.
// Its tests check that every document under it can be reached from the
// README by following links, that every relative link (and its #anchor)
// resolves, and that messages in the code point at documents that exist
// rather than at "the README".
package docs
