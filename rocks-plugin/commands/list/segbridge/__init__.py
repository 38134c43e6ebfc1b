# `rocks list segbridge ...` (segbridge roll). No Command here: `rocks list segbridge`
# prints the help of its sub-commands, like every Rocks command package.
RollName = "segbridge"
