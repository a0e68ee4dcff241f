/// Expression tree of the Jinja subset. Every node keeps the byte offset it came from.
indirect enum JinjaExpr: Sendable {
    case literal(JinjaValue)
    case name(String, offset: Int)
    case list([JinjaExpr])
    case dict([(JinjaExpr, JinjaExpr)])
    /// `a.b`
    case attribute(JinjaExpr, String, offset: Int)
    /// `a[b]`
    case index(JinjaExpr, JinjaExpr, offset: Int)
    /// `a[start:stop:step]`
    case slice(JinjaExpr, JinjaExpr?, JinjaExpr?, JinjaExpr?, offset: Int)
    /// `f(args, key=value)`, including method calls `a.strip()` (callee is `.attribute`).
    case call(JinjaExpr, [JinjaExpr], [(String, JinjaExpr)], offset: Int)
    /// `value | name(args)`
    case filter(JinjaExpr, String, [JinjaExpr], offset: Int)
    /// `value is [not] name(args)`
    case test(JinjaExpr, String, [JinjaExpr], negated: Bool, offset: Int)
    case unary(String, JinjaExpr, offset: Int)
    case binary(String, JinjaExpr, JinjaExpr, offset: Int)
    /// `a if cond else b` (`b` nil: undefined)
    case conditional(JinjaExpr, JinjaExpr, JinjaExpr?)
}

/// Statement tree of the Jinja subset.
indirect enum JinjaNode: Sendable {
    case text(String)
    case output(JinjaExpr)
    /// `{% for targets in iterable [if filter] %}body{% else %}elseBody{% endfor %}`
    case forLoop(targets: [String], iterable: JinjaExpr, filter: JinjaExpr?, body: [JinjaNode],
                 elseBody: [JinjaNode], offset: Int)
    /// `{% if %}...{% elif %}...{% else %}...{% endif %}` as (condition, body) branches.
    case conditional([(JinjaExpr, [JinjaNode])], elseBody: [JinjaNode])
    /// `{% set name = value %}` or `{% set ns.attr = value %}`
    case set(target: String, attribute: String?, value: JinjaExpr, offset: Int)
}
