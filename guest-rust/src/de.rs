//! Reads a command's payload (or an event's data) into the variant its name selects, through the
//! enum's own `Deserialize`, so serde attributes on the variants' fields keep working.
use serde::de::{self, DeserializeSeed, EnumAccess, VariantAccess, Visitor};
use serde::forward_to_deserialize_any;

pub type Error = rmp_serde::decode::Error;

/// `T::deserialize(Variant { name: "Increment", content })` builds `T::Increment` from `content`.
pub struct Variant<'a> {
    pub name: &'a str,
    pub content: &'a [u8],
}

impl<'de> de::Deserializer<'de> for Variant<'de> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_enum(self)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_enum(self)
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}

impl<'de> EnumAccess<'de> for Variant<'de> {
    type Error = Error;
    type Variant = Content<'de>;

    fn variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<(S::Value, Content<'de>), Error> {
        let name = de::value::BorrowedStrDeserializer::<'de, Error>::new(self.name);
        Ok((seed.deserialize(name)?, Content(self.content)))
    }
}

pub struct Content<'a>(&'a [u8]);

impl<'de> VariantAccess<'de> for Content<'de> {
    type Error = Error;

    /// A variant without fields takes any payload.
    fn unit_variant(self) -> Result<(), Error> {
        Ok(())
    }

    fn newtype_variant_seed<S: DeserializeSeed<'de>>(self, seed: S) -> Result<S::Value, Error> {
        seed.deserialize(&mut rmp_serde::Deserializer::from_read_ref(self.0))
    }

    fn tuple_variant<V: Visitor<'de>>(self, len: usize, visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_tuple(&mut rmp_serde::Deserializer::from_read_ref(self.0), len, visitor)
    }

    fn struct_variant<V: Visitor<'de>>(self, fields: &'static [&'static str], visitor: V) -> Result<V::Value, Error> {
        de::Deserializer::deserialize_struct(&mut rmp_serde::Deserializer::from_read_ref(self.0), "", fields, visitor)
    }
}
