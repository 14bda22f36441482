import Tensors

/// Date normalization (C5W3-10): human-readable dates in many formats
/// ("3 May 1979", "05/03/79", "Thursday, May 3, 1979", …) to the ISO form
/// `YYYY-MM-DD` — the task the course's attention model learns, here generated
/// with the library's seeded generator (nothing is downloaded).
///
/// Dates are drawn uniformly from 1950-01-01 … 2049-12-31, so a two-digit year
/// is unambiguous (`yy < 50` → 20yy, else 19yy). Numeric formats with slashes
/// are month first (US, as the course's generator writes them); dotted and
/// dashed numeric formats are day first. Inputs are lowercased, as the
/// course's `load_dataset` does.
public struct DateNormalizationExample: Sendable, Equatable {
    /// The human-readable date, lowercased, e.g. `"thursday, may 3, 1979"`.
    public let human: String
    /// The ISO date, e.g. `"1979-05-03"`.
    public let machine: String
}

public enum DateNormalization {
    /// The formats, as patterns: `d`/`dd` day, `m`/`mm` month number,
    /// `mmm`/`mmmm` month name, `yy`/`yyyy` year, `www`/`wwww` weekday name.
    public static let formats = [
        "d mmmm yyyy", "dd mmmm yyyy", "d mmm yyyy", "mmmm d, yyyy", "mmm d, yyyy", "wwww, mmmm d, yyyy", "www, mmm d, yyyy",
        "wwww d mmmm yyyy", "mm/dd/yy", "m/d/yy", "mm/dd/yyyy", "dd.mm.yyyy", "d.m.yy", "yyyy-mm-dd", "mmmm dd yyyy",
        "dd mmm yy", "www d mmm yyyy", "mmmm d yyyy", "d mmmm, yyyy",
    ]
    static let months = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
                         "november", "december"]
    static let weekdays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

    /// Days in `month` (1…12) of `year` (Gregorian).
    static func days(in month: Int, of year: Int) -> Int {
        if month == 2 { return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28 }
        return [4, 6, 9, 11].contains(month) ? 30 : 31
    }

    /// The weekday (0 = Monday) by Zeller's congruence.
    static func weekday(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let (y, m) = month < 3 ? (year - 1, month + 12) : (year, month)
        let h = (day + 13 * (m + 1) / 5 + y % 100 + (y % 100) / 4 + (y / 100) / 4 + 5 * (y / 100)) % 7   // 0 = Saturday
        return (h + 5) % 7
    }

    /// `date` written with `pattern` (one of ``formats``).
    public static func format(year: Int, month: Int, day: Int, pattern: String) -> String {
        let two = { (n: Int) in n < 10 ? "0\(n)" : "\(n)" }
        var out = "", rest = Substring(pattern)
        let tokens: [(String, String)] = [
            ("wwww", weekdays[weekday(year, month, day)]), ("www", String(weekdays[weekday(year, month, day)].prefix(3))),
            ("mmmm", months[month - 1]), ("mmm", String(months[month - 1].prefix(3))), ("mm", two(month)), ("m", "\(month)"),
            ("dd", two(day)), ("d", "\(day)"), ("yyyy", "\(year)"), ("yy", two(year % 100)),
        ]
        outer: while !rest.isEmpty {
            for (token, value) in tokens where rest.hasPrefix(token) {
                out += value
                rest = rest.dropFirst(token.count)
                continue outer
            }
            out.append(rest.removeFirst())
        }
        return out
    }

    /// `count` examples drawn with `generator`: a uniform date and a uniform format each.
    public static func examples(count: Int, generator: inout RandomGenerator) -> [DateNormalizationExample] {
        (0..<count).map { _ in
            let year = 1950 + generator.nextIndex(below: 100), month = 1 + generator.nextIndex(below: 12)
            let day = 1 + generator.nextIndex(below: days(in: month, of: year))
            let pattern = formats[generator.nextIndex(below: formats.count)]
            return DateNormalizationExample(human: format(year: year, month: month, day: day, pattern: pattern),
                                            machine: format(year: year, month: month, day: day, pattern: "yyyy-mm-dd"))
        }
    }

    /// The characters of the human-readable side, index 0 the padding mark
    /// (`"\0"`) and 1 the unknown mark (`"?"`), then the characters every format
    /// can produce.
    public static let humanVocabulary: [Character] = ["\0", "?"] + Array(" ,-./0123456789") + Array("abcdefghijklmnopqrstuvwxyz")
    /// The machine side: the ten digits and `-`, then the start mark `"^"` a decoder is fed first.
    public static let machineVocabulary: [Character] = Array("0123456789-^")
    /// Input length `T_x` (longer inputs are cut) and output length `T_y`.
    public static let inputLength = 30, outputLength = 10

    /// Indices of `text`'s characters in ``humanVocabulary``, padded with 0 (or cut) to ``inputLength``.
    public static func encodeHuman(_ text: String) -> [Int] {
        var indices = text.lowercased().map { c in humanVocabulary.firstIndex(of: c) ?? 1 }
        indices = Array(indices.prefix(inputLength))
        return indices + [Int](repeating: 0, count: inputLength - indices.count)
    }

    /// Indices of an ISO date's characters in ``machineVocabulary``.
    public static func encodeMachine(_ text: String) -> [Int] {
        text.map { c in
            guard let i = machineVocabulary.firstIndex(of: c) else { fatalError("'\(c)' is not in the machine vocabulary") }
            return i
        }
    }

    public static func decodeMachine(_ indices: [Int]) -> String { String(indices.map { machineVocabulary[$0] }) }

    /// The number of real (unpadded) characters of an encoded input.
    public static func length(of encoded: [Int]) -> Int { encoded.firstIndex(of: 0) ?? encoded.count }
}
