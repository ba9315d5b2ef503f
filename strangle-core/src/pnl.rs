//! Profit and loss of short legs and of a session, exactly, in USD.
//!
//! A short leg's PnL is what its sales brought in, less what buying back cost, less what the
//! still-open contracts would cost at the mark, less fees:
//! `(sold_value − bought_value − mark × open) × contract_size − fees`. With one entry price
//! this is the familiar `(entry − mark) × qty × contract_size − fees`.

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// The executions of one short leg, kept as exact sums.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LegBook {
    /// Contracts sold.
    pub sold: Decimal,
    /// Σ price × contracts of the sales.
    pub sold_value: Decimal,
    /// Contracts bought back.
    pub bought: Decimal,
    /// Σ price × contracts of the buy-backs.
    pub bought_value: Decimal,
    /// Fees paid on both sides.
    pub fees: Decimal,
}

impl LegBook {
    /// Records a sale.
    pub fn sell(&mut self, size: Decimal, price: Decimal, fee: Decimal) {
        self.sold += size;
        self.sold_value += size * price;
        self.fees += fee;
    }

    /// Records a buy-back.
    pub fn buy(&mut self, size: Decimal, price: Decimal, fee: Decimal) {
        self.bought += size;
        self.bought_value += size * price;
        self.fees += fee;
    }

    /// Contracts still short.
    pub fn open(&self) -> Decimal {
        self.sold - self.bought
    }

    /// Average sale price, if anything was sold.
    pub fn entry_price(&self) -> Option<Decimal> {
        (!self.sold.is_zero()).then(|| self.sold_value / self.sold)
    }

    /// Average buy-back price, if anything was bought.
    pub fn exit_price(&self) -> Option<Decimal> {
        (!self.bought.is_zero()).then(|| self.bought_value / self.bought)
    }

    /// PnL of the leg with the open contracts valued at `mark`.
    pub fn pnl(&self, mark: Decimal, contract_size: Decimal) -> LegPnl {
        let premium = self.sold_value * contract_size;
        let gross = (self.sold_value - self.bought_value - mark * self.open()) * contract_size;
        LegPnl {
            premium,
            gross,
            fees: self.fees,
            net: gross - self.fees,
        }
    }
}

impl LegBook {
    /// PnL of the leg if its open contracts were bought back now at `ask`, paying `exit_fee`
    /// for that: what closing would realise, where [`LegBook::pnl`] values them at the mark.
    ///
    /// ```
    /// use rust_decimal_macros::dec;
    /// use strangle_core::pnl::LegBook;
    /// let mut b = LegBook::default();
    /// b.sell(dec!(10), dec!(500), dec!(0.6));
    /// let at_mark = b.pnl(dec!(450), dec!(0.001));
    /// let close = b.close_now(dec!(470), dec!(0.001), dec!(0.55));
    /// assert_eq!(at_mark.net, dec!(-0.1)); // 0.5 − 0.6
    /// assert_eq!(close.net, dec!(-0.85)); // 0.3 − 0.6 − 0.55
    /// ```
    pub fn close_now(&self, ask: Decimal, contract_size: Decimal, exit_fee: Decimal) -> LegPnl {
        let p = self.pnl(ask, contract_size);
        let fees = p.fees + exit_fee;
        LegPnl {
            fees,
            net: p.gross - fees,
            ..p
        }
    }
}

/// PnL of one leg, USD.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LegPnl {
    /// Premium received: Σ sale price × contracts × contract size.
    pub premium: Decimal,
    /// PnL before fees.
    pub gross: Decimal,
    /// Fees paid.
    pub fees: Decimal,
    /// `gross − fees`.
    pub net: Decimal,
}

/// PnL of a session (the sum of its legs), USD, with the net as a % of premium.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct SessionPnl {
    /// Premium received by all legs.
    pub premium: Decimal,
    /// PnL before fees.
    pub gross: Decimal,
    /// Fees paid.
    pub fees: Decimal,
    /// `gross − fees`.
    pub net: Decimal,
}

impl SessionPnl {
    /// Adds up legs (owned or borrowed).
    pub fn from_legs<L: std::borrow::Borrow<LegPnl>>(legs: impl IntoIterator<Item = L>) -> Self {
        legs.into_iter()
            .fold(Self::default(), |acc, l| acc.plus(l.borrow()))
    }

    /// This PnL with one more leg added.
    pub fn plus(self, l: &LegPnl) -> Self {
        Self {
            premium: self.premium + l.premium,
            gross: self.gross + l.gross,
            fees: self.fees + l.fees,
            net: self.net + l.net,
        }
    }

    /// Net PnL as a percentage of premium received (`25` = 25 %), rounded to 6 places;
    /// `None` before any premium was received.
    pub fn pct_of_premium(&self) -> Option<Decimal> {
        (self.premium > Decimal::ZERO)
            .then(|| (self.net * Decimal::ONE_HUNDRED / self.premium).round_dp(6))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn short_leg_formula() {
        let mut b = LegBook::default();
        b.sell(dec!(10), dec!(751.3), dec!(0.25));
        let p = b.pnl(dec!(700), dec!(0.001));
        assert_eq!(p.premium, dec!(7.513));
        assert_eq!(p.gross, dec!(0.513));
        assert_eq!(p.net, dec!(0.263));
        b.buy(dec!(10), dec!(650), dec!(0.2));
        let p = b.pnl(dec!(999), dec!(0.001)); // mark is irrelevant once flat
        assert_eq!(p.gross, dec!(1.013));
        assert_eq!(p.fees, dec!(0.45));
        assert_eq!(b.entry_price(), Some(dec!(751.3)));
        assert_eq!(b.exit_price(), Some(dec!(650)));
    }

    #[test]
    fn session_pct() {
        let a = LegPnl {
            premium: dec!(10),
            gross: dec!(4),
            fees: dec!(1),
            net: dec!(3),
        };
        let s = SessionPnl::from_legs([&a, &a]);
        assert_eq!(s.net, dec!(6));
        assert_eq!(s.pct_of_premium(), Some(dec!(30)));
    }
}
