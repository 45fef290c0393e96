using Runnel.DynamoDb.Model;

namespace Runnel.DynamoDb.Expressions;

/// <summary>
/// Parses condition expressions (ConditionExpression, FilterExpression, KeyConditionExpression) and projection
/// expressions. Precedence as AWS documents it: comparisons, BETWEEN, IN and functions bind tightest, then NOT,
/// then AND, then OR; parentheses group.
/// </summary>
internal sealed class ConditionParser : ExpressionParser
{
    private static readonly Dictionary<string, int> ConditionFunctions = new(StringComparer.Ordinal)
    {
        ["attribute_exists"] = 1,
        ["attribute_not_exists"] = 1,
        ["attribute_type"] = 2,
        ["begins_with"] = 2,
        ["contains"] = 2,
    };

    private static readonly string[] Types = ["S", "SS", "N", "NS", "B", "BS", "BOOL", "NULL", "L", "M"];

    private ConditionParser(string text, string kind, ExpressionContext context) : base(text, kind, context)
    {
    }

    /// <param name="kind">The request member, as the error messages name it ("ConditionExpression").</param>
    public static Condition Parse(string text, string kind, ExpressionContext context)
    {
        var parser = new ConditionParser(text, kind, context);
        return parser.Run(parser.ParseOr);
    }

    /// <summary>A ProjectionExpression: document paths separated by commas, none overlapping another.</summary>
    public static IReadOnlyList<DocumentPath> ParseProjection(string text, ExpressionContext context)
    {
        var parser = new ConditionParser(text, "ProjectionExpression", context);
        return parser.Run(() =>
        {
            var paths = new List<DocumentPath> { parser.ParsePath() };
            while (parser.Peek().Is(","))
            {
                parser.Next();
                paths.Add(parser.ParsePath());
            }
            parser.CheckOverlaps(paths);
            return paths;
        });
    }

    private Condition ParseOr()
    {
        var left = ParseAnd();
        while (Peek().IsKeyword("OR"))
        {
            Next();
            left = new Or(left, ParseAnd());
        }
        return left;
    }

    private Condition ParseAnd()
    {
        var left = ParseNot();
        while (Peek().IsKeyword("AND"))
        {
            Next();
            left = new And(left, ParseNot());
        }
        return left;
    }

    private Condition ParseNot()
    {
        if (Peek().IsKeyword("NOT"))
        {
            Next();
            return new Not(ParseNot());
        }
        return ParsePrimary();
    }

    private Condition ParsePrimary()
    {
        if (Peek().Is("("))
        {
            int start = Position;
            try
            {
                Next();
                var inner = ParseOr();
                Expect(")");
                return inner;
            }
            catch (SyntaxException)
            {
                Position = start; // not a condition in parentheses: an operand in them, "(a) = :v"
            }
        }
        var token = Peek();
        if (token.Kind == TokenKind.Identifier && Peek(1).Is("(") && !IsKeyword(token) && token.Text != "size")
        {
            var function = ParseFunction();
            if (!IsComparator(Peek()))
                return CheckCondition(function);
            return Compare(CheckOperand(function));
        }
        return Compare(CheckOperand(ParseOperand()));
    }

    private static bool IsComparator(Token token) =>
        token.Kind == TokenKind.Symbol && token.Text is "=" or "<>" or "<" or "<=" or ">" or ">=" || token.IsKeyword("BETWEEN") || token.IsKeyword("IN");

    private Condition Compare(Operand left)
    {
        var token = Peek();
        if (token.Kind == TokenKind.Symbol && token.Text is "=" or "<>" or "<" or "<=" or ">" or ">=")
        {
            Next();
            var right = CheckOperand(ParseOperand());
            CheckDistinct(token.Text, left, right);
            return new Comparison(token.Text, left, right);
        }
        if (token.IsKeyword("BETWEEN"))
        {
            Next();
            var low = CheckOperand(ParseOperand());
            if (!Peek().IsKeyword("AND"))
                throw SyntaxError();
            Next();
            var high = CheckOperand(ParseOperand());
            if (low is ValueOperand l && high is ValueOperand h)
            {
                string bounds = $"lower bound operand: AttributeValue: {{{l.Value.Type}:{l.Value}}}, upper bound operand: AttributeValue: {{{h.Value.Type}:{h.Value}}}";
                if (l.Value.Type != h.Value.Type)
                    Report(OperandType, "The BETWEEN operator requires same data type for lower and upper bounds; " + bounds);
                else if (AttributeValue.Compare(l.Value, h.Value) > 0)
                    Report(OperandType, "The BETWEEN operator requires upper bound to be greater than or equal to lower bound; " + bounds);
            }
            return new Between(left, low, high);
        }
        if (token.IsKeyword("IN"))
        {
            Next();
            Expect("(");
            var candidates = new List<Operand> { CheckOperand(ParseOperand()) };
            while (Peek().Is(","))
            {
                Next();
                candidates.Add(CheckOperand(ParseOperand()));
            }
            Expect(")");
            return new In(left, candidates);
        }
        if (left is FunctionOperand { Name: "size" })
            Report(MisusedFunction, "The function is not allowed to be used this way in an expression; function: size");
        throw SyntaxError();
    }

    /// <summary>An operand in a comparison: only <c>size</c> may be a function there.</summary>
    private Operand CheckOperand(Operand operand)
    {
        if (operand is not FunctionOperand function)
            return operand;
        if (function.Name != "size")
        {
            if (ConditionFunctions.ContainsKey(function.Name))
                Report(MisusedFunction, $"The function is not allowed to be used this way in an expression; function: {function.Name}");
            else
                Report(UnknownFunction, $"Invalid function name; function: {function.Name}");
            return operand;
        }
        if (!CheckCount(function, 1))
            return operand;
        if (function.Arguments[0] is FunctionOperand inner)
            CheckOperand(inner);
        if (TypeOf(function.Arguments[0]) is { } type && type is "N" or "BOOL" or "NULL")
            Report(OperandType, $"Incorrect operand type for operator or function; operator or function: size, operand type: {type}");
        return operand;
    }

    private Condition CheckCondition(FunctionOperand function)
    {
        string name = function.Name;
        if (!ConditionFunctions.TryGetValue(name, out int count))
        {
            Report(UnknownFunction, $"Invalid function name; function: {name}");
            return new FunctionCondition(name, function.Arguments);
        }
        foreach (var argument in function.Arguments)
            CheckOperand(argument);
        if (!CheckCount(function, count))
            return new FunctionCondition(name, function.Arguments);
        if (count == 2)
            CheckDistinct(name, function.Arguments[0], function.Arguments[1]);
        switch (name)
        {
            case "attribute_exists" or "attribute_not_exists" when function.Arguments[0] is not PathOperand:
                Report(OperandType, $"Operator or function requires a document path; operator or function: {name}");
                break;
            case "attribute_type":
                if (function.Arguments[1] is not ValueOperand { Value.Type: AttributeType.S } type)
                    Report(OperandType, $"Incorrect operand type for operator or function; operator or function: {name}, operand type: {TypeOf(function.Arguments[1]) ?? "{NS,SS,L,BS,N,M,B,BOOL,NULL,S}"}");
                else if (!Types.Contains(type.Value.String))
                    Report(OperandType, $"Invalid attribute type name found; type: {type.Value.String}, valid types: {{B,NULL,SS,BOOL,L,BS,N,NS,S,M}}");
                break;
            case "begins_with":
                foreach (var argument in function.Arguments)
                    if (TypeOf(argument) is { } t && t is not ("S" or "B"))
                        Report(OperandType, $"Incorrect operand type for operator or function; operator or function: {name}, operand type: {t}");
                break;
        }
        return new FunctionCondition(name, function.Arguments);
    }

    private bool CheckCount(FunctionOperand function, int count)
    {
        if (function.Arguments.Count == count)
            return true;
        Report(Operands, $"Incorrect number of operands for operator or function; operator or function: {function.Name}, number of operands: {function.Arguments.Count}");
        return false;
    }

    private void CheckDistinct(string name, Operand first, Operand second)
    {
        if (first is PathOperand a && second is PathOperand b && a.Path.Equals(b.Path))
            Report(Distinct, $"The first operand must be distinct from the remaining operands for this operator or function; operator: {name}, first operand: {a.Path}");
    }
}
