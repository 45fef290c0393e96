using System.Globalization;
using System.Numerics;
using System.Text;

namespace Runnel.DynamoDb.Model;

/// <summary>
/// A DynamoDB number: an exact decimal of up to 38 significant digits whose magnitude lies within 1E-130 and
/// 9.99…E+125, compared numerically and written back in plain decimal notation without redundant zeros ("01.50"
/// is stored and returned as "1.5"), as DynamoDB does. The value is <see cref="Mantissa"/> × 10^<see cref="Exponent"/>,
/// the mantissa without trailing zeros (zero is 0 × 10^0), so that equal numbers are equal structs. Immutable.
/// </summary>
public readonly struct DynamoNumber : IEquatable<DynamoNumber>, IComparable<DynamoNumber>
{
    public const int MaxDigits = 38;
    private const int MaxExponent = 125;
    private const int MinExponent = -130;

    private DynamoNumber(BigInteger mantissa, int exponent)
    {
        if (mantissa.IsZero)
        {
            Mantissa = BigInteger.Zero;
            Exponent = 0;
            return;
        }
        while (mantissa % 10 == 0)
        {
            mantissa /= 10;
            exponent++;
        }
        Mantissa = mantissa;
        Exponent = exponent;
    }

    public BigInteger Mantissa { get; }
    public int Exponent { get; }

    public static DynamoNumber Zero => default;

    public static DynamoNumber Of(long value) => new(value, 0);

    /// <summary>Significant digits (1 for zero).</summary>
    public int Digits => Mantissa.IsZero ? 1 : BigInteger.Abs(Mantissa).ToString(CultureInfo.InvariantCulture).Length;

    /// <summary>Parses a number as DynamoDB reads one; null with AWS's message when it is not one or is out of range.</summary>
    public static DynamoNumber? TryParse(string text, out string? error)
    {
        error = null;
        if (text.Length == 0)
        {
            error = "The parameter cannot be converted to a numeric value";
            return null;
        }
        if (!TryParseDecimal(text, out var mantissa, out int exponent))
        {
            error = "The parameter cannot be converted to a numeric value: " + text;
            return null;
        }
        var number = new DynamoNumber(mantissa, exponent);
        error = number.RangeError();
        return error is null ? number : null;
    }

    /// <summary>AWS's message when this number cannot be stored (out of range, too many digits), else null.</summary>
    public string? RangeError()
    {
        if (Mantissa.IsZero)
            return null;
        int leading = Digits - 1 + Exponent; // the exponent of the leading digit in scientific notation
        if (leading > MaxExponent)
            return "Number overflow. Attempting to store a number with magnitude larger than supported range";
        if (leading < MinExponent)
            return "Number underflow. Attempting to store a number with magnitude smaller than supported range";
        return Digits > MaxDigits ? "Attempting to store more than 38 significant digits in a Number" : null;
    }

    private static bool TryParseDecimal(string text, out BigInteger mantissa, out int exponent)
    {
        mantissa = BigInteger.Zero;
        exponent = 0;
        int i = 0;
        bool negative = false;
        if (i < text.Length && text[i] is '-' or '+')
            negative = text[i++] == '-';
        var digits = new StringBuilder();
        int fraction = 0;
        bool any = false, point = false;
        for (; i < text.Length; i++)
        {
            char c = text[i];
            if (c is >= '0' and <= '9')
            {
                any = true;
                if (digits.Length > 0 || c != '0')
                    digits.Append(c);
                if (point)
                    fraction++;
            }
            else if (c == '.' && !point)
                point = true;
            else
                break;
        }
        if (!any)
            return false;
        long exp = 0;
        if (i < text.Length)
        {
            if (text[i] is not ('e' or 'E') || ++i >= text.Length)
                return false;
            bool expNegative = false;
            if (text[i] is '-' or '+')
                expNegative = text[i++] == '-';
            if (i >= text.Length)
                return false;
            for (; i < text.Length; i++)
            {
                if (text[i] is < '0' or > '9')
                    return false;
                exp = Math.Min(exp * 10 + (text[i] - '0'), 1_000_000);
            }
            if (expNegative)
                exp = -exp;
        }
        if (digits.Length > 400)
            return false; // far beyond any storable number; keeps the arithmetic bounded
        mantissa = digits.Length == 0 ? BigInteger.Zero : BigInteger.Parse(digits.ToString(), CultureInfo.InvariantCulture);
        if (negative)
            mantissa = -mantissa;
        exponent = (int)Math.Clamp(exp - fraction, -1_000_000, 1_000_000);
        return true;
    }

    public static DynamoNumber operator +(DynamoNumber a, DynamoNumber b)
    {
        int exponent = Math.Min(a.Exponent, b.Exponent);
        return new DynamoNumber(Scaled(a, exponent) + Scaled(b, exponent), exponent);
    }

    public static DynamoNumber operator -(DynamoNumber a, DynamoNumber b) => a + new DynamoNumber(-b.Mantissa, b.Exponent);

    private static BigInteger Scaled(DynamoNumber n, int exponent) => n.Mantissa * BigInteger.Pow(10, n.Exponent - exponent);

    public int CompareTo(DynamoNumber other)
    {
        int exponent = Math.Min(Exponent, other.Exponent);
        return Scaled(this, exponent).CompareTo(Scaled(other, exponent));
    }

    public bool Equals(DynamoNumber other) => Mantissa == other.Mantissa && Exponent == other.Exponent;

    public override bool Equals(object? obj) => obj is DynamoNumber other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(Mantissa, Exponent);

    public static bool operator ==(DynamoNumber a, DynamoNumber b) => a.Equals(b);

    public static bool operator !=(DynamoNumber a, DynamoNumber b) => !a.Equals(b);

    public static bool operator <(DynamoNumber a, DynamoNumber b) => a.CompareTo(b) < 0;

    public static bool operator >(DynamoNumber a, DynamoNumber b) => a.CompareTo(b) > 0;

    public static bool operator <=(DynamoNumber a, DynamoNumber b) => a.CompareTo(b) <= 0;

    public static bool operator >=(DynamoNumber a, DynamoNumber b) => a.CompareTo(b) >= 0;

    /// <summary>Plain decimal notation, no exponent, no redundant zeros: "100", "-0.05", "0".</summary>
    public override string ToString()
    {
        if (Mantissa.IsZero)
            return "0";
        string digits = BigInteger.Abs(Mantissa).ToString(CultureInfo.InvariantCulture);
        string sign = Mantissa.Sign < 0 ? "-" : "";
        if (Exponent >= 0)
            return sign + digits + new string('0', Exponent);
        int point = digits.Length + Exponent;
        return point > 0
            ? sign + digits[..point] + "." + digits[point..]
            : sign + "0." + new string('0', -point) + digits;
    }

    /// <summary>Bytes the number counts for in an item's size: about one per two significant digits, plus one (AWS's rule).</summary>
    public int Size => 1 + (Digits + 1) / 2;
}
