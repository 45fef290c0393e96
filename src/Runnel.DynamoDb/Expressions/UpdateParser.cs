using Runnel.DynamoDb.Model;

namespace Runnel.DynamoDb.Expressions;

/// <summary>
/// Parses an UpdateExpression: sections SET (path = value, value + value, value - value, if_not_exists, list_append),
/// REMOVE (paths), ADD (path :value) and DELETE (path :value), each at most once, in any order; no two paths may
/// overlap.
/// </summary>
internal sealed class UpdateParser : ExpressionParser
{
    private static readonly string[] Sections = ["SET", "REMOVE", "ADD", "DELETE"];

    private UpdateParser(string text, ExpressionContext context) : base(text, "UpdateExpression", context)
    {
    }

    public static IReadOnlyList<UpdateAction> Parse(string text, ExpressionContext context)
    {
        var parser = new UpdateParser(text, context);
        return parser.Run(parser.ParseSections);
    }

    protected override bool IsKeyword(Token token) => Sections.Any(token.IsKeyword);

    private List<UpdateAction> ParseSections()
    {
        var actions = new List<UpdateAction>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        do
        {
            var token = Peek();
            string? section = Sections.FirstOrDefault(token.IsKeyword);
            if (section is null)
                throw SyntaxError();
            Next();
            if (!seen.Add(section))
                Report(Section, $"The \"{section}\" section can only be used once in an update expression;");
            do
            {
                actions.Add(ParseAction(section));
                if (!Peek().Is(","))
                    break;
                Next();
            }
            while (true);
        }
        while (!AtEnd);
        CheckOverlaps(actions.Select(a => a.Path).ToList());
        return actions;
    }

    private UpdateAction ParseAction(string section)
    {
        if (Peek().Kind is not (TokenKind.Identifier or TokenKind.Name))
            throw SyntaxError();
        var path = ParsePath();
        switch (section)
        {
            case "SET":
                Expect("=");
                return new SetAction(path, ParseSetValue());
            case "REMOVE":
                return new RemoveAction(path);
            default:
                if (Peek().Kind != TokenKind.Value)
                    throw SyntaxError();
                var value = ParseValue();
                var type = value.Value.Type;
                bool allowed = value.Value.IsSet || (section == "ADD" && type == AttributeType.N);
                if (!allowed)
                    Report(OperandType, $"Incorrect operand type for operator or function; operator: {section}, operand type: {TypeName(type)}");
                return section == "ADD" ? new AddAction(path, value) : new DeleteAction(path, value);
        }
    }

    private static string TypeName(AttributeType type) => type switch
    {
        AttributeType.S => "STRING",
        AttributeType.N => "NUMBER",
        AttributeType.B => "BINARY",
        AttributeType.BOOL => "BOOLEAN",
        AttributeType.L => "LIST",
        AttributeType.M => "MAP",
        _ => type.ToString(),
    };

    private Operand ParseSetValue()
    {
        if (Peek().Is("("))
        {
            int start = Position;
            try
            {
                Next();
                var inner = ParseSetValue();
                Expect(")");
                return inner;
            }
            catch (SyntaxException)
            {
                Position = start;
            }
        }
        var left = ParseUpdateOperand();
        if (Peek().Is("+") || Peek().Is("-"))
        {
            char op = Next().Text[0];
            var right = ParseUpdateOperand();
            foreach (var operand in new[] { left, right })
                if (TypeOf(operand) is { } t && t != "N")
                    Report(OperandType, $"Incorrect operand type for operator or function; operator or function: {op}, operand type: {t}");
            return new ArithmeticOperand(op, left, right);
        }
        return left;
    }

    private Operand ParseUpdateOperand()
    {
        var operand = ParseOperand();
        if (operand is FunctionOperand function)
            CheckFunction(function);
        return operand;
    }

    private void CheckFunction(FunctionOperand function)
    {
        foreach (var argument in function.Arguments.OfType<FunctionOperand>())
            CheckFunction(argument);
        if (function.Name is not ("if_not_exists" or "list_append"))
        {
            Report(UnknownFunction, $"Invalid function name; function: {function.Name}");
            return;
        }
        if (function.Arguments.Count != 2)
        {
            Report(Operands, $"Incorrect number of operands for operator or function; operator or function: {function.Name}, number of operands: {function.Arguments.Count}");
            return;
        }
        if (function.Name == "if_not_exists" && function.Arguments[0] is not PathOperand)
            Report(OperandType, "Operator or function requires a document path; operator or function: if_not_exists");
        if (function.Name == "list_append")
            foreach (var argument in function.Arguments)
                if (TypeOf(argument) is { } t && t != "L")
                    Report(OperandType, $"Incorrect operand type for operator or function; operator or function: list_append, operand type: {t}");
    }
}
